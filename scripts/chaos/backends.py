"""What the nodes stand on, and the nodes: the slow link, Redis (one server or a cluster), `warden serve`."""

import http.client
import os
import signal
import socket
import subprocess
import threading
import time

from common import free_port, run


class SlowLink:
    """A veth pair into a namespace; one node runs inside it, and netem delays its link on demand."""

    def __init__(self):
        n = os.getpid() % 250
        self.ns = f"wchaos{os.getpid()}"
        self.host_if = f"wch{os.getpid() % 100000}"
        self.ns_if = f"wcn{os.getpid() % 100000}"
        self.host_ip = f"10.213.{n}.1"
        self.ns_ip = f"10.213.{n}.2"
        self.ok = False
        self.reason = None

    def setup(self):
        steps = [
            ["ip", "netns", "add", self.ns],
            ["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
            ["ip", "link", "set", self.ns_if, "netns", self.ns],
            ["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if],
            ["ip", "link", "set", self.host_if, "up"],
            ["ip", "netns", "exec", self.ns, "ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if],
            ["ip", "netns", "exec", self.ns, "ip", "link", "set", self.ns_if, "up"],
            ["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"],
        ]
        try:
            for step in steps:
                run(step)
            # netem must be available (the sch_netem module): try it once, then remove it.
            run(["tc", "qdisc", "add", "dev", self.host_if, "root", "netem", "delay", "1ms"])
            run(["tc", "qdisc", "del", "dev", self.host_if, "root"])
            self.ok = True
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            detail = getattr(e, "stderr", "") or str(e)
            self.reason = f"network namespace or netem not available: {' '.join(e.cmd) if hasattr(e, 'cmd') else ''}: {detail.strip()}"
            self.teardown()
        return self.ok

    def delay(self, on):
        for prefix, dev in (([], self.host_if), (["ip", "netns", "exec", self.ns], self.ns_if)):
            if on:
                run(prefix + ["tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "50ms"])
            else:
                subprocess.run(prefix + ["tc", "qdisc", "del", "dev", dev, "root"], stderr=subprocess.DEVNULL)

    def teardown(self):
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.host_if], stderr=subprocess.DEVNULL)


class DelayProxy:
    """A TCP relay that can add latency: the slow link when the kernel has no netem.

    Every chunk relayed in either direction waits `delay` seconds first (order is kept), so a request
    and its answer each cross it 50 ms late, like `netem delay 50ms` on both ends of a link.
    """

    def __init__(self, name, target_host, target_port):
        self.name = name
        self.target = (target_host, target_port)
        self.delay = 0.0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.connect, args=(client,), daemon=True).start()

    def connect(self, client):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            # As a refused connection looks to a client: closed at once.
            client.close()
            return
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.sock.close()


class RedisServer:
    def __init__(self, name, out, procs, bind, cluster=False, announce=None):
        self.name = name
        self.port = free_port(cluster_bus=cluster)
        self.dir = os.path.join(out, name)
        os.makedirs(self.dir, exist_ok=True)
        self.procs = procs
        self.bind = bind
        self.cluster = cluster
        self.announce = announce
        self.proc = None

    def args(self):
        a = ["redis-server", "--port", str(self.port), "--bind", " ".join(self.bind), "--protected-mode", "no",
             "--dir", self.dir, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
             "--logfile", os.path.join(self.dir, "redis.log")]
        if self.cluster:
            a += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                  "--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0"]
            if self.announce:
                a += ["--cluster-announce-ip", self.announce]
        return a

    def start(self):
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.add(self.name, self.proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            if r.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.procs.remove(self.name)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
        return r.stdout.strip()


class RedisCluster:
    def __init__(self, out, procs, host_ip):
        bind = ["127.0.0.1"] + ([host_ip] if host_ip != "127.0.0.1" else [])
        self.servers = [RedisServer(f"redis-c{i}", out, procs, bind, cluster=True, announce=host_ip) for i in range(6)]
        self.host_ip = host_ip

    def start(self):
        for s in self.servers:
            s.start()
        run(["redis-cli", "--cluster", "create"] + [f"{self.host_ip}:{s.port}" for s in self.servers]
            + ["--cluster-replicas", "1", "--cluster-yes"])
        self.wait_ok()

    def url(self):
        return "redis+cluster://" + ",".join(f"{self.host_ip}:{s.port}" for s in self.servers)

    def alive(self):
        return [s for s in self.servers if s.proc and s.proc.poll() is None]

    def wait_ok(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [s.cli("cluster", "info") for s in self.alive()]
            if all("cluster_state:ok" in st for st in states) and len(self.primaries()) == 3:
                return True
            time.sleep(0.2)
        return False

    def roles(self):
        """port -> 'master' or 'slave', from one live node's CLUSTER NODES."""
        for s in self.alive():
            text = s.cli("cluster", "nodes")
            if not text:
                continue
            roles = {}
            for line in text.splitlines():
                f = line.split()
                if len(f) < 3 or "fail" in f[2]:
                    continue
                port = int(f[1].split("@")[0].rsplit(":", 1)[1])
                roles[port] = "master" if "master" in f[2] else "slave"
            return roles
        return {}

    def slots_of(self, port):
        """The slot ranges `port` serves as a primary (for the checker: which accounts a fault touched)."""
        for s in self.alive():
            text = s.cli("cluster", "nodes")
            for line in text.splitlines():
                f = line.split()
                if len(f) >= 8 and f[1].split("@")[0].endswith(f":{port}"):
                    return [x for x in f[8:] if not x.startswith("[")]
        return []

    def primary_of(self, replica_port):
        """The port of the primary a replica follows."""
        for s in self.alive():
            lines = s.cli("cluster", "nodes").splitlines()
            ids = {l.split()[0]: int(l.split()[1].split("@")[0].rsplit(":", 1)[1]) for l in lines if len(l.split()) > 2}
            for l in lines:
                f = l.split()
                if len(f) > 3 and f[1].split("@")[0].endswith(f":{replica_port}"):
                    return ids.get(f[3])
        return None

    def primaries(self):
        roles = self.roles()
        return [s for s in self.alive() if roles.get(s.port) == "master"]

    def replicas(self):
        roles = self.roles()
        return [s for s in self.alive() if roles.get(s.port) == "slave"]


class Node:
    def __init__(self, index, harness, host, redis_url, netns=None, faketime_env=None, database_url=None):
        self.index = index
        self.h = harness
        self.host = host
        self.port = free_port()
        self.client_port = self.port  # where the load generator connects (a relay's, for the slow link)
        self.redis_url = redis_url
        self.database_url = database_url
        self.netns = netns
        self.faketime_env = faketime_env
        self.proc = None
        self.name = f"node{index}"
        self.url = f"http://{host}:{self.port}"

    def start(self):
        env = dict(self.h.env)
        env.update({"WARDEN_HOST": self.host, "WARDEN_PORT": str(self.port), "WARDEN_REDIS_URL": self.redis_url})
        if self.database_url:
            env["WARDEN_DATABASE_URL"] = self.database_url
        if self.faketime_env:
            env.update(self.faketime_env)
        cmd = [self.h.warden, "serve", "--no-tls"]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
            # Inside the namespace, 127.0.0.1 is the namespace's own loopback: reach PostgreSQL by the veth.
            env["WARDEN_DATABASE_URL"] = env["WARDEN_DATABASE_URL"].replace("@127.0.0.1:", f"@{self.h.host_ip}:")
        out = open(os.path.join(self.h.out, f"{self.name}.out"), "a")
        err = open(os.path.join(self.h.out, f"{self.name}.log"), "a")
        self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=self.h.workdir)
        self.h.procs.add(self.name, self.proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.name}.log")
            try:
                c = http.client.HTTPConnection(self.host, self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.h.procs.remove(self.name)
