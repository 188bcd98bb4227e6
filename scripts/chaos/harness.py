#!/usr/bin/env python3
"""Faults under load for three `warden serve` nodes: writes a history that checker.py judges.

Started by scripts/chaos.sh, which has already started a private PostgreSQL (scripts/postgres.sh) and
passes its URL and directory. This program starts Redis (one server, or a cluster of three primaries and
three replicas), three Warden nodes sharing it and the database, a load generator (one thread per test
account, two for field encryption) and a fault thread, and records every request and every fault as one
JSON line in <out>/history.jsonl. At the end, with the faults stopped, it decrypts every acknowledged
ciphertext on each node, runs `warden audit verify` and dumps the audit log for the checker.

Nothing secret is written: passwords, tokens, TOTP secrets and plaintexts live in memory only; the
history holds the first 16 hex digits of their SHA-256 ("fingerprints").

Processes it starts are listed in <out>/pids (one "pid name" a line) so that chaos.sh can end them
even if this program dies; it also ends them itself on exit.
"""

import argparse
import base64
import glob
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

try:
    import pyotp
except ImportError:  # TOTP accounts are then left out (chaos.sh installs pyotp).
    pyotp = None


def fp(secret):
    """The fingerprint of a secret: never the secret itself."""
    if secret is None:
        return None
    return hashlib.sha256(secret.encode() if isinstance(secret, str) else secret).hexdigest()[:16]


def free_port(cluster_bus=False):
    """A free port on 127.0.0.1; for a cluster node, one at most 55535 whose bus port (+10000) is free too."""
    if not cluster_bus:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    while True:
        port = random.randint(20000, 55535)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue


def log(*parts):
    print(time.strftime("%H:%M:%S"), "chaos:", *parts, file=sys.stderr, flush=True)


class History:
    """One JSON object a line; every line carries monotonic and wall time."""

    def __init__(self, path):
        self.file = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, record):
        line = json.dumps(record, sort_keys=True)
        with self.lock:
            self.file.write(line + "\n")

    def event(self, kind, **fields):
        self.write({"kind": kind, "m": time.monotonic(), "w": time.time(), **fields})


class Processes:
    """Every process this harness starts, so that each can be ended by its id."""

    def __init__(self, out):
        self.path = os.path.join(out, "pids")
        self.lock = threading.Lock()
        self.running = {}

    def add(self, name, proc):
        with self.lock:
            self.running[name] = proc
            self._save()

    def remove(self, name):
        with self.lock:
            self.running.pop(name, None)
            self._save()

    def _save(self):
        with open(self.path + ".tmp", "w") as f:
            for name, proc in self.running.items():
                f.write(f"{proc.pid} {name}\n")
        os.replace(self.path + ".tmp", self.path)

    def stop_all(self):
        with self.lock:
            items = list(self.running.items())
        for name, proc in items:
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=10)
            except Exception:
                pass
            self.remove(name)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# --------------------------------------------------------------------------------------------------
# The network namespace for the slow-link node.


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


# --------------------------------------------------------------------------------------------------
# Redis: one server or a cluster.


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


# --------------------------------------------------------------------------------------------------
# Warden nodes.


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


# --------------------------------------------------------------------------------------------------
# HTTP calls, each recorded.


class Client:
    def __init__(self, harness):
        self.h = harness

    def call(self, op, node, method, path, body=None, token=None, ids=None, timeout=10, record=True):
        """Returns (status or None, json or None, error or None, record)."""
        headers = {"User-Agent": f"warden-chaos/{(ids or {}).get('account', 'x')[:8]}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        rec = {"kind": "op", "op": op, "node": node.index}
        rec.update(ids or {})
        rec["m0"], rec["w0"] = time.monotonic(), time.time()
        status, payload, err, rid = None, None, None, None
        try:
            c = http.client.HTTPConnection(node.host, node.client_port, timeout=timeout)
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            raw = r.read()
            status = r.status
            rid = r.getheader("X-Request-ID")
            c.close()
            if raw:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
        except ConnectionRefusedError:
            err = "refused"
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, http.client.IncompleteRead):
            err = "reset"
        except socket.timeout:
            err = "timeout"
        except OSError as e:
            err = "oserror:" + type(e).__name__
        rec["m1"], rec["w1"] = time.monotonic(), time.time()
        rec["status"] = status
        rec["err"] = err
        rec["rid"] = rid
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            rec["code"] = payload["error"].get("code")
        if record:
            self.h.history.write(rec)
        return status, payload, err, rec


def ok(status):
    return status is not None and 200 <= status < 300


# --------------------------------------------------------------------------------------------------
# The load.


class Account:
    def __init__(self, name, password, kind):
        self.name = name
        self.password = password
        self.kind = kind  # "plain", "totp", "disable"
        self.id = None
        self.totp = None
        self.used_codes = set()
        self.sessions = {}  # sid -> {"access", "refresh", "issued"}
        self.dead = []  # (access token, sid) whose revocation was acknowledged
        self.used_refresh = []  # rotated-out refresh tokens (sid, token)


class Harness:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.workdir = os.path.join(self.out, "work")
        os.makedirs(self.workdir, exist_ok=True)
        self.warden = args.warden
        self.procs = Processes(self.out)
        self.history = History(os.path.join(self.out, "history.jsonl"))
        self.client = Client(self)
        self.stop = threading.Event()
        self.rng = random.Random(args.seed)
        self.nodes = []
        self.skipped = {}
        self.slow = None
        self.slow_reason = None
        self.proxies = None
        self.redis = None
        self.cluster = None
        self.faketime_file = os.path.join(self.out, "faketime")
        self.root = None
        self.root_lock = threading.Lock()
        self.root_token = None
        self.ciphertexts = []  # (node index, context, ciphertext, plaintext hash)
        self.ct_lock = threading.Lock()
        self.env = dict(os.environ)
        self.env.update({
            "WARDEN_DATABASE_URL": args.database_url,
            "WARDEN_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "WARDEN_SCRYPT_LOG_N": "10",
            "WARDEN_LOG_FORMAT": "json",
            "WARDEN_LOG_LEVEL": args.log_level,
            # The load comes from one address: the per-address limits would otherwise answer 429.
            "WARDEN_RATE_LIMIT_PER_MINUTE": "1000000",
            "WARDEN_AUTH_RATE_LIMIT_PER_MINUTE": "1000000",
            "WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE": "1000000",
            # Sessions the load generator stops using (after an unacknowledged write) stay alive: no eviction.
            "WARDEN_MAX_SESSIONS": "1000",
            "WARDEN_MFA_LOCK_THRESHOLD": "20",
            # Logins from 15 threads on two cores: a queue long enough that hashing never answers 503 busy.
            "WARDEN_PASSWORD_HASH_QUEUE": "1000",
            "WARDEN_SHUTDOWN_DRAIN_SECONDS": "0",
            "USER": "chaos",
        })
        for k in ("LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED"):
            self.env.pop(k, None)

    # ---- setup

    def cli(self, *args, stdin=None, check=True):
        env = dict(self.env)
        env["WARDEN_REDIS_URL"] = self.cli_redis_url
        r = subprocess.run([self.warden] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, cwd=self.workdir, timeout=300)
        if check and r.returncode != 0:
            raise RuntimeError(f"warden {args[0]} {args[1] if len(args) > 1 else ''} failed: {r.stderr.strip()[:500]}")
        return r

    def setup_faketime(self):
        libs = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")) + sorted(glob.glob("/usr/lib/faketime/libfaketime.so.1"))
        if not libs:
            self.skipped["clock_skew"] = "libfaketime not installed"
            return None
        lib = libs[0]
        with open(self.faketime_file, "w") as f:
            f.write("+0\n")
        # libfaketime's constructor publishes its shared-memory names with setenv(FAKETIME_SHARED), which
        # moves `environ` off the stack; Swift on Linux finds argv by walking back from `environ`, so the
        # node would start with no arguments. A holder process creates the shared memory first and the
        # node attaches to it (FAKETIME_SHARED already set: no setenv).
        holder = subprocess.Popen(
            [sys.executable, "-c", "import os,sys,time; print(os.environ['FAKETIME_SHARED'], flush=True); time.sleep(10**7)"],
            env={**self.env, "LD_PRELOAD": lib, "FAKETIME": "+0"}, stdout=subprocess.PIPE, text=True)
        self.procs.add("faketime-holder", holder)
        shared = holder.stdout.readline().strip()
        if not shared:
            self.skipped["clock_skew"] = "libfaketime did not publish FAKETIME_SHARED"
            return None
        return {"LD_PRELOAD": lib, "FAKETIME_SHARED": shared, "FAKETIME_TIMESTAMP_FILE": self.faketime_file,
                "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def setup(self):
        a = self.args
        host_ip = "127.0.0.1"
        if a.slow_link:
            self.slow = SlowLink()
            if self.slow.setup():
                host_ip = self.slow.host_ip
                # PostgreSQL (scripts/postgres.sh) listens on 127.0.0.1 only: restart it on the veth address too.
                self.pg_restart(extra_listen=host_ip)
            else:
                log(f"{self.slow.reason}; the slow link is a userspace relay instead")
                self.slow_reason = self.slow.reason
                self.slow = None
                self.proxies = {}
        else:
            self.skipped["slow_link"] = "turned off (--no-slow-link)"
        self.host_ip = host_ip
        if a.redis == "single":
            bind = ["127.0.0.1"] + ([host_ip] if host_ip != "127.0.0.1" else [])
            self.redis = RedisServer("redis", self.out, self.procs, bind)
            self.redis.start()
            redis_url = f"redis://{host_ip}:{self.redis.port}"
        else:
            self.cluster = RedisCluster(self.out, self.procs, host_ip)
            self.cluster.start()
            redis_url = self.cluster.url()
        self.cli_redis_url = redis_url
        log("redis:", a.redis, redis_url)

        # Accounts: plain, TOTP, and some that an administrator disables and enables.
        self.accounts = []
        for i in range(a.accounts):
            kind = "totp" if i < a.totp_accounts and pyotp else ("disable" if i >= a.accounts - a.disable_accounts else "plain")
            acct = Account(f"chaos{i}", secrets.token_urlsafe(18), kind)
            created = self.cli("users", "create", acct.name, "--password-stdin", stdin=acct.password + "\n")
            acct.id = created.stdout.split("(")[-1].split(")")[0]
            self.accounts.append(acct)
        self.root = Account("chaosroot", secrets.token_urlsafe(18), "root")
        self.root.id = self.cli("users", "create", "chaosroot", "--password-stdin", stdin=self.root.password + "\n").stdout.split("(")[-1].split(")")[0]
        self.cli("users", "grant", "chaosroot", "account_admin")
        self.app = Account("chaosapp", secrets.token_urlsafe(18), "app")
        self.app.id = self.cli("users", "create", "chaosapp", "--password-stdin", stdin=self.app.password + "\n").stdout.split("(")[-1].split(")")[0]
        self.cli("users", "grant", "chaosapp", "crypto_client")

        # Three nodes: the second under libfaketime, the third in the network namespace.
        ft = self.setup_faketime() if a.clock_skew else None
        if not a.clock_skew:
            self.skipped["clock_skew"] = "turned off (--no-clock-skew)"
        for i in range(3):
            netns = self.slow.ns if (i == 2 and self.slow) else None
            host = self.slow.ns_ip if netns else "127.0.0.1"
            node_redis, node_db = redis_url, None
            if i == 2 and self.proxies is not None:
                # Node 2's links to PostgreSQL, to Redis (a single server: a cluster hands out its nodes'
                # own addresses) and from the clients go through relays that the fault slows down.
                pg_port = int(a.database_url.split("@127.0.0.1:")[1].split("/")[0])
                self.proxies["postgres"] = DelayProxy("postgres", "127.0.0.1", pg_port)
                node_db = a.database_url.replace(f"@127.0.0.1:{pg_port}/", f"@127.0.0.1:{self.proxies['postgres'].port}/")
                if self.redis:
                    self.proxies["redis"] = DelayProxy("redis", "127.0.0.1", self.redis.port)
                    node_redis = f"redis://127.0.0.1:{self.proxies['redis'].port}"
            node = Node(i, self, host, node_redis, netns=netns, faketime_env=ft if i == 1 else None, database_url=node_db)
            if i == 2 and self.proxies is not None:
                self.proxies["clients"] = DelayProxy("clients", "127.0.0.1", node.port)
                node.client_port = self.proxies["clients"].port
            try:
                node.start()
            except RuntimeError as e:
                if i == 1 and ft:
                    self.skipped["clock_skew"] = f"the node would not start under libfaketime: {e}"
                    log(self.skipped["clock_skew"])
                    node.kill9()
                    node = Node(i, self, host, redis_url)
                    node.start()
                else:
                    raise
            self.nodes.append(node)
            log(f"node{i}: {node.url}" + (" (libfaketime)" if node.faketime_env else "") + (" (namespace " + netns + ")" if netns else ""))
        self.faketime_ok = bool(self.nodes[1].faketime_env)

        # TOTP enrolment (through node 0).
        for acct in self.accounts:
            if acct.kind != "totp":
                continue
            n = self.nodes[0]
            st, body, _, _ = self.client.call("setup_login", n, "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids={"account": acct.id})
            assert ok(st), f"setup login {st}"
            tok = body["access_token"]
            st, body, _, _ = self.client.call("mfa_setup", n, "POST", "/auth/mfa/setup", {"method": "totp", "name": "chaos", "current_password": acct.password}, token=tok, ids={"account": acct.id})
            assert ok(st), f"mfa setup {st} {body.get('error') if body else ''}"
            acct.totp = pyotp.TOTP(body["secret"])
            code = acct.totp.now()
            acct.used_codes.add(code)
            st, body, _, _ = self.client.call("mfa_confirm", n, "POST", "/auth/mfa/verify", {"factor_id": body["factor_id"], "code": code}, token=tok, ids={"account": acct.id})
            assert ok(st), f"mfa confirm {st}"
            # Confirming ends the account's other sessions; this one is left alone by the load.
        self.history.event("setup", redis=a.redis, nodes=[n.url for n in self.nodes], accounts=[(x.id, x.kind) for x in self.accounts],
                           root=self.root.id, app=self.app.id, skipped=self.skipped, slow_link_relay=self.slow_reason, faketime_node=1 if self.faketime_ok else None,
                           slow_node=2 if self.slow else None)

    def pg_bin(self):
        dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: [int(x) for x in d.split("/")[-2].split(".") if x.isdigit()])
        return dirs[-1]

    def pg_restart(self, extra_listen=None):
        data = os.path.join(self.args.pg_dir, "data")
        cmd = ["runuser", "-u", "postgres", "--", os.path.join(self.pg_bin(), "pg_ctl"), "-D", data, "-w", "-m", "fast",
               "-l", os.path.join(self.args.pg_dir, "server.log")]
        if extra_listen:
            port = self.args.database_url.split("@127.0.0.1:")[1].split("/")[0]
            cmd += ["-o", f"-p {port} -k {self.args.pg_dir} -c listen_addresses=127.0.0.1,{extra_listen} -c fsync=off -c max_connections=200"]
        cmd.append("restart")
        if os.getuid() != 0:
            cmd = cmd[4:]
        run(cmd)

    # ---- load

    def pick_node(self):
        return self.rng.choice(self.nodes)

    def ids(self, acct, sid=None, access=None, refresh=None):
        d = {"account": acct.id}
        if sid:
            d["sid"] = sid
        if access:
            d["tok"] = fp(access)
        if refresh:
            d["rtok"] = fp(refresh)
        return d

    def take_tokens(self, acct, body, rec, node):
        sid = body.get("session_id")
        acct.sessions[sid] = {"access": body["access_token"], "refresh": body["refresh_token"], "issued": time.monotonic(), "node": node.index}
        rec_extra = {"kind": "issued", "m": rec["m1"], "account": acct.id, "sid": sid, "tok": fp(body["access_token"]),
                     "rtok": fp(body["refresh_token"]), "node": node.index, "by": rec["op"], "rid": rec["rid"], "level": body.get("authentication_level")}
        self.history.write(rec_extra)
        return sid

    def do_login(self, acct):
        node = self.pick_node()
        if acct.kind == "totp":
            now = time.time()
            code = None
            for offset in (0, -30, 30):
                c = acct.totp.at(now + offset)
                if c not in acct.used_codes:
                    code = c
                    break
            if code is None:
                return
            st, body, err, rec = self.client.call("login", node, "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
            if not ok(st) or not body or not body.get("mfa_required"):
                return
            node2 = self.pick_node()
            acct.used_codes.add(code)
            st, body, err, rec = self.client.call("mfa_login", node2, "POST", "/auth/mfa/verify", {"challenge": body["challenge"], "method": "totp", "code": code}, ids=self.ids(acct))
            if ok(st) and body and body.get("access_token"):
                self.take_tokens(acct, body, rec, node2)
            return
        st, body, err, rec = self.client.call("login", node, "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
        if ok(st) and body and body.get("access_token"):
            self.take_tokens(acct, body, rec, node)

    def do_refresh(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        node = self.pick_node()
        st, body, err, rec = self.client.call("refresh", node, "POST", "/auth/refresh", {"refresh_token": s["refresh"]}, ids=self.ids(acct, sid, refresh=s["refresh"]))
        if ok(st) and body and body.get("access_token"):
            acct.used_refresh.append((sid, s["refresh"]))
            del acct.sessions[sid]
            body.setdefault("session_id", sid)
            new_sid = self.take_tokens(acct, body, rec, node)
            if new_sid != sid:
                self.history.event("note", text="refresh changed the session id", account=acct.id)
        elif st == 401:
            # Refused: the session is over (a data-loss fault, or this token counted as reused).
            acct.sessions.pop(sid, None)
            if rec.get("code") == "refresh_token_reused":
                acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
                acct.sessions.clear()
        elif st is None or st >= 500:
            # Unknown outcome: the store may have rotated. Using the old token again would count as reuse.
            acct.sessions.pop(sid, None)

    def do_list(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        st, body, err, rec = self.client.call("list", self.pick_node(), "GET", "/auth/sessions", token=s["access"], ids=self.ids(acct, sid, access=s["access"]))
        if st == 401:
            acct.sessions.pop(sid, None)

    def do_revoke(self, acct):
        sids = list(acct.sessions)
        by = self.rng.choice(sids)
        target = self.rng.choice(sids)
        s = acct.sessions[by]
        st, body, err, rec = self.client.call("revoke", self.pick_node(), "DELETE", f"/auth/sessions/{target}", token=s["access"],
                                              ids={**self.ids(acct, by, access=s["access"]), "target": target})
        t = acct.sessions.pop(target, None)
        if ok(st) and t:
            acct.dead.append((t["access"], target))
        elif st == 401:
            acct.sessions.pop(by, None)

    def do_logout_all(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        st, body, err, rec = self.client.call("logout_all", self.pick_node(), "POST", "/auth/logout-all", token=s["access"], ids=self.ids(acct, sid, access=s["access"]))
        if ok(st):
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
        acct.sessions.clear()

    def do_probe(self, acct):
        token, sid = self.rng.choice(acct.dead)
        self.client.call("probe", self.pick_node(), "GET", "/auth/sessions", token=token, ids=self.ids(acct, sid, access=token))

    def do_reuse(self, acct):
        sid, token = self.rng.choice(acct.used_refresh)
        st, body, err, rec = self.client.call("refresh_reuse", self.pick_node(), "POST", "/auth/refresh", {"refresh_token": token}, ids=self.ids(acct, sid, refresh=token))
        if st == 401 and rec.get("code") == "refresh_token_reused":
            # Reuse ends every session of the account (rule refreshReuse). (A token of a session already
            # ended answers invalid_token and ends nothing.)
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
            acct.sessions.clear()
        acct.used_refresh = [x for x in acct.used_refresh if x[1] != token]

    def root_call(self, op, method, path, acct):
        """An administrator's call; logs the administrator in again when its session is refused."""
        for _ in range(3):
            with self.root_lock:
                if self.root_token is None:
                    st, body, _, _ = self.client.call("root_login", self.pick_node(), "POST", "/auth/login",
                                                      {"username": self.root.name, "password": self.root.password}, ids={"account": self.root.id})
                    if not ok(st):
                        return None, None
                    self.root_token = body["access_token"]
                token = self.root_token
            st, body, err, rec = self.client.call(op, self.pick_node(), method, path, token=token,
                                                  ids={"account": self.root.id, "tok": fp(token), "target_account": acct.id})
            if st == 401:
                with self.root_lock:
                    if self.root_token == token:
                        self.root_token = None
                continue
            return st, rec
        return None, None

    def do_disable_cycle(self, acct):
        st, rec = self.root_call("disable", "POST", f"/admin/accounts/{acct.id}/disable", acct)
        if st is None or not ok(st):
            if st is not None and st < 500:
                log("disable refused:", st)
            # Unknown: the account may be disabled; try to enable it again below.
        else:
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
            acct.sessions.clear()
            # While disabled: the old tokens and a password login must be refused.
            for _ in range(3):
                if acct.dead:
                    self.do_probe(acct)
            self.client.call("login_disabled", self.pick_node(), "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
        acct.sessions.clear()
        for _ in range(20):
            if self.stop.is_set() and _ > 5:
                break
            st, rec = self.root_call("enable", "POST", f"/admin/accounts/{acct.id}/enable", acct)
            if st is not None and ok(st):
                return
            time.sleep(0.5)

    def account_worker(self, acct):
        rng = self.rng
        while not self.stop.is_set():
            try:
                choices = []
                if len(acct.sessions) < 4:
                    choices.append(("login", 3 if acct.kind != "totp" else 1.5))
                if acct.sessions:
                    choices += [("refresh", 4), ("list", 6), ("revoke", 1.5), ("logout_all", 0.4)]
                if acct.dead:
                    choices.append(("probe", 2))
                if acct.used_refresh:
                    choices.append(("reuse", 0.1))
                if acct.kind == "disable":
                    choices.append(("disable", 0.3))
                total = sum(w for _, w in choices)
                x = rng.random() * total
                for name, w in choices:
                    x -= w
                    if x <= 0:
                        break
                getattr(self, {"login": "do_login", "refresh": "do_refresh", "list": "do_list", "revoke": "do_revoke",
                               "logout_all": "do_logout_all", "probe": "do_probe", "reuse": "do_reuse",
                               "disable": "do_disable_cycle"}[name])(acct)
                if len(acct.dead) > 200:
                    acct.dead = acct.dead[-100:]
                if len(acct.used_refresh) > 50:
                    acct.used_refresh = acct.used_refresh[-25:]
            except Exception as e:  # a bug in the load generator must not end the run silently
                self.history.event("harness_error", text=f"{type(e).__name__}: {e}")
                log("worker error:", type(e).__name__, e)
                time.sleep(0.5)
            time.sleep(self.args.think)

    def crypto_worker(self, wid):
        token = None
        n = 0
        while not self.stop.is_set():
            try:
                if token is None:
                    st, body, _, rec = self.client.call("app_login", self.pick_node(), "POST", "/auth/login",
                                                        {"username": self.app.name, "password": self.app.password}, ids={"account": self.app.id})
                    if ok(st):
                        token = body["access_token"]
                        self.history.write({"kind": "issued", "m": rec["m1"], "account": self.app.id, "sid": body.get("session_id"),
                                            "tok": fp(token), "rtok": fp(body["refresh_token"]), "node": rec["node"], "by": "app_login"})
                    else:
                        time.sleep(0.5)
                        continue
                n += 1
                context = f"chaos/w{wid}/{n}"
                plaintext = secrets.token_bytes(24)
                node = self.pick_node()
                st, body, _, rec = self.client.call("encrypt", node, "POST", "/v1/crypto/encrypt",
                                                    {"context": context, "plaintext": base64.b64encode(plaintext).decode()},
                                                    token=token, ids={"account": self.app.id, "tok": fp(token), "context": context, "pt": fp(plaintext)})
                if st == 401:
                    token = None
                    continue
                if ok(st) and body and body.get("ciphertext"):
                    ct = body["ciphertext"]
                    self.history.event("ciphertext", context=context, ct=fp(ct), pt=fp(plaintext), key_version=body.get("key_version"), node=node.index, rid=rec["rid"])
                    with self.ct_lock:
                        self.ciphertexts.append((context, ct, fp(plaintext)))
                    if self.rng.random() < 0.5:
                        self.decrypt(self.pick_node(), context, ct, fp(plaintext), token, "decrypt")
            except Exception as e:
                self.history.event("harness_error", text=f"{type(e).__name__}: {e}")
                log("crypto worker error:", type(e).__name__, e)
                time.sleep(0.5)
            time.sleep(self.args.think)

    def decrypt(self, node, context, ct, pt_fp, token, op):
        st, body, err, rec = self.client.call(op, node, "POST", "/v1/crypto/decrypt", {"context": context, "ciphertext": ct},
                                              token=token, ids={"account": self.app.id, "tok": fp(token), "context": context, "ct": fp(ct), "pt": pt_fp}, record=False)
        if ok(st) and body and "plaintext" in body:
            try:
                rec["got"] = fp(base64.b64decode(body["plaintext"]))
            except ValueError:
                rec["got"] = "undecodable"
        self.history.write(rec)
        return st

    # ---- faults

    def fault(self, name, target=None, **extra):
        class Span:
            def __enter__(s):
                s.m0 = time.monotonic()
                self.history.event("fault_start", fault=name, target=target, **extra)
                log("fault", name, "target", target, extra or "")
                return s

            def __exit__(s, *exc):
                self.history.event("fault_end", fault=name, target=target, ok=exc[0] is None,
                                   error=None if exc[0] is None else f"{exc[0].__name__}: {exc[1]}", **extra)
                log("fault", name, "ended", f"{time.monotonic() - s.m0:.1f}s", "" if exc[0] is None else f"with {exc[1]}")
                return False

        return Span()

    def f_node_kill(self):
        node = self.rng.choice(self.nodes)
        with self.fault("node_kill", node.index):
            node.kill9()
            time.sleep(1)
            node.start()

    def f_redis_pause(self):
        server = self.redis if self.redis else self.rng.choice(self.cluster.primaries())
        slots = {} if self.redis else {"slots": self.cluster.slots_of(server.port)}
        with self.fault("redis_pause", server.name, seconds=3, **slots):
            os.kill(server.proc.pid, signal.SIGSTOP)
            try:
                time.sleep(3)
            finally:
                os.kill(server.proc.pid, signal.SIGCONT)
        if self.cluster:
            self.cluster.wait_ok(30)

    def f_redis_rollback(self):
        if not self.redis:
            return
        r = self.redis
        before = r.cli("lastsave")
        r.cli("bgsave")
        deadline = time.monotonic() + 20
        while r.cli("lastsave") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = os.path.join(r.dir, "snapshot.rdb")
        shutil.copy(os.path.join(r.dir, "dump.rdb"), snap)
        self.history.event("redis_snapshot", target=r.name)
        time.sleep(self.args.rollback_age)
        with self.fault("redis_rollback", r.name, snapshot_age=self.args.rollback_age):
            r.kill()
            shutil.copy(snap, os.path.join(r.dir, "dump.rdb"))
            r.start()

    def f_pg_restart(self):
        with self.fault("pg_restart", "postgres"):
            self.pg_restart()

    def f_clock_skew(self, seconds):
        if not self.faketime_ok:
            return
        with self.fault("clock_skew", 1, seconds=seconds, hold=self.args.hold):
            with open(self.faketime_file, "w") as f:
                f.write(f"{seconds:+d}\n")
            try:
                time.sleep(self.args.hold)
            finally:
                with open(self.faketime_file, "w") as f:
                    f.write("+0\n")

    def f_slow_link(self):
        if self.slow:
            with self.fault("slow_link", 2, delay_ms=50, hold=self.args.hold, how="netem"):
                self.slow.delay(True)
                try:
                    time.sleep(self.args.hold)
                finally:
                    self.slow.delay(False)
        elif self.proxies:
            with self.fault("slow_link", 2, delay_ms=50, hold=self.args.hold, how="relay", links=sorted(self.proxies)):
                for p in self.proxies.values():
                    p.delay = 0.05
                try:
                    time.sleep(self.args.hold)
                finally:
                    for p in self.proxies.values():
                        p.delay = 0.0

    def f_cluster_failover(self):
        replica = self.rng.choice(self.cluster.replicas())
        old = self.cluster.primary_of(replica.port)
        with self.fault("cluster_failover", replica.name, slots=self.cluster.slots_of(old) if old else []):
            replica.cli("cluster", "failover")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.cluster.roles().get(replica.port) != "master":
                time.sleep(0.1)
            self.cluster.wait_ok(30)

    def f_cluster_kill_primary(self):
        primary = self.rng.choice(self.cluster.primaries())
        with self.fault("cluster_kill_primary", primary.name, slots=self.cluster.slots_of(primary.port)):
            primary.kill()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(self.cluster.primaries()) < 3:
                time.sleep(0.1)
            # Back as a replica of the promoted one (its nodes.conf is kept).
            primary.start()
            self.cluster.wait_ok(60)

    def schedule(self):
        a = self.args
        if a.redis == "single":
            plan = ["node_kill", "redis_pause", "redis_rollback", "pg_restart", "clock_plus", "slow_link", "redis_rollback",
                    "node_kill", "clock_minus", "redis_pause", "pg_restart"]
        else:
            plan = ["node_kill", "cluster_failover", "redis_pause", "cluster_kill_primary", "pg_restart", "clock_plus", "slow_link",
                    "cluster_failover", "node_kill", "cluster_kill_primary", "clock_minus"]
            self.skipped["redis_rollback"] = "single Redis only (a cluster's snapshot is per primary)"
        if a.faults:
            wanted = a.faults.split(",")
            plan = [f for f in plan if f in wanted] or wanted
        return plan

    def fault_worker(self, end):
        plan = self.schedule()
        i = 0
        time.sleep(self.args.warmup)
        while not self.stop.is_set() and time.monotonic() < end - self.args.gap and plan:
            name = plan[i % len(plan)]
            i += 1
            try:
                {"node_kill": self.f_node_kill, "redis_pause": self.f_redis_pause, "redis_rollback": self.f_redis_rollback,
                 "pg_restart": self.f_pg_restart, "clock_plus": lambda: self.f_clock_skew(120), "clock_minus": lambda: self.f_clock_skew(-120),
                 "slow_link": self.f_slow_link, "cluster_failover": self.f_cluster_failover,
                 "cluster_kill_primary": self.f_cluster_kill_primary}[name]()
            except Exception as e:
                self.history.event("harness_error", text=f"fault {name}: {type(e).__name__}: {e}")
                log("fault error:", name, type(e).__name__, e)
            # A quiet gap: the checker gives 5 s of grace after a fault, and measures the recovery in it.
            self.stop.wait(self.args.gap)

    # ---- the run

    def run(self):
        self.setup()
        end = time.monotonic() + self.args.minutes * 60
        self.history.event("load_start", minutes=self.args.minutes)
        threads = [threading.Thread(target=self.account_worker, args=(a,), daemon=True) for a in self.accounts]
        threads += [threading.Thread(target=self.crypto_worker, args=(i,), daemon=True) for i in range(self.args.crypto_workers)]
        faults = threading.Thread(target=self.fault_worker, args=(end,), daemon=True)
        for t in threads:
            t.start()
        faults.start()
        while time.monotonic() < end:
            time.sleep(0.5)
        self.stop.set()
        faults.join(timeout=120)
        for t in threads:
            t.join(timeout=30)
        self.history.event("load_end")
        log("load over; final checks")
        self.final_checks()

    def final_checks(self):
        # Every acknowledged ciphertext on every node, a few attempts each (a node may answer 503 right
        # after the last fault; every attempt is recorded, and the checker needs one success per node).
        time.sleep(2)
        token = None
        for _ in range(20):
            st, body, _, _ = self.client.call("app_login", self.nodes[0], "POST", "/auth/login", {"username": self.app.name, "password": self.app.password}, ids={"account": self.app.id})
            if ok(st):
                token = body["access_token"]
                break
            time.sleep(1)
        self.history.event("final_start", ciphertexts=len(self.ciphertexts))
        work = [(n, c) for c in self.ciphertexts for n in self.nodes]
        lock = threading.Lock()

        def sweep():
            while True:
                with lock:
                    if not work:
                        return
                    node, (context, ct, pt) = work.pop()
                for attempt in range(5):
                    st = self.decrypt(node, context, ct, pt, token, "final_decrypt")
                    if st is not None and st < 500:
                        break
                    time.sleep(1)

        ts = [threading.Thread(target=sweep) for _ in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.history.event("final_end")
        verify = self.cli("audit", "verify", check=False)
        self.history.event("audit_verify", status=verify.returncode, output=(verify.stdout + verify.stderr).strip()[-400:])
        # `warden audit tail` shows at most the newest 10,000 entries; a run writes more. The request ids
        # are read from the table itself (read only; `audit verify` above checked the whole chain).
        rows = run([os.path.join(self.pg_bin(), "psql"), self.args.database_url, "-At", "-F", "\t", "-c",
                    "SELECT seq, action, outcome, coalesce(request_id, '') FROM warden_audit ORDER BY seq"]).stdout
        with open(os.path.join(self.out, "audit.jsonl"), "w") as f:
            for line in rows.splitlines():
                seq, action, outcome, rid = line.split("\t")
                f.write(json.dumps({"seq": int(seq), "action": action, "outcome": outcome, "request_id": rid or None}) + "\n")
        tail = self.cli("audit", "tail", "--json", "--limit", "5", check=False)
        self.history.event("audit_dump", entries=len(rows.splitlines()), cli_tail_status=tail.returncode)
        log("audit verify:", verify.returncode, (verify.stdout + verify.stderr).strip()[-200:])

    def cleanup(self):
        self.stop.set()
        self.procs.stop_all()
        if self.slow:
            self.slow.teardown()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=2)
    p.add_argument("--redis", choices=["single", "cluster"], default="single")
    p.add_argument("--out", required=True)
    p.add_argument("--warden", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--pg-dir", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--accounts", type=int, default=12)
    p.add_argument("--totp-accounts", type=int, default=3)
    p.add_argument("--disable-accounts", type=int, default=3)
    p.add_argument("--crypto-workers", type=int, default=2)
    p.add_argument("--think", type=float, default=0.03, help="seconds each worker waits between requests")
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--gap", type=float, default=10, help="quiet seconds after each fault")
    p.add_argument("--hold", type=float, default=15, help="seconds a clock step or a slow link lasts")
    p.add_argument("--rollback-age", type=float, default=6, help="seconds of load between the snapshot and the rollback")
    p.add_argument("--faults", default=None, help="comma-separated subset of the schedule")
    p.add_argument("--no-slow-link", dest="slow_link", action="store_false")
    p.add_argument("--no-clock-skew", dest="clock_skew", action="store_false")
    p.add_argument("--log-level", default="info")
    args = p.parse_args()
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    h = Harness(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        h.history.event("run", seed=args.seed, argv=sys.argv[1:])
        h.run()
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        h.cleanup()
        with open(os.path.join(h.out, "skipped.json"), "w") as f:
            json.dump(h.skipped, f, indent=1)
        for k, v in h.skipped.items():
            log(f"skipped {k}: {v}")


if __name__ == "__main__":
    sys.exit(main())
