"""The faults, one at a time from a fixed rotation; each recorded with its start and end."""

import glob
import os
import shutil
import signal
import time

from common import log, run


class Faults:
    """The fault part of the harness (a mixin: `Harness` holds the nodes, Redis and history)."""

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

    def snapshot(self, r):
        """A copy of Redis's data as of now (BGSAVE, then the dump copied aside), recorded in the history."""
        before = r.cli("lastsave")
        r.cli("bgsave")
        deadline = time.monotonic() + 20
        while r.cli("lastsave") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = os.path.join(r.dir, "snapshot.rdb")
        shutil.copy(os.path.join(r.dir, "dump.rdb"), snap)
        self.history.event("redis_snapshot", target=r.name)
        return snap

    def f_redis_rollback(self):
        if not self.redis:
            return
        r = self.redis
        snap = self.snapshot(r)
        time.sleep(self.args.rollback_age)
        with self.fault("redis_rollback", r.name, snapshot_age=self.args.rollback_age):
            r.kill()
            shutil.copy(snap, os.path.join(r.dir, "dump.rdb"))
            r.start()

    def f_skew_rollback(self):
        """A clock step back and a Redis rollback together: the watermark a logout-all writes comes from
        the node's clock, and a replay after the rollback applies the watermark, not the sessions."""
        if not (self.redis and self.faketime_ok):
            return
        r = self.redis
        snap = self.snapshot(r)
        with self.fault("clock_skew", 1, seconds=-120, hold=self.args.hold):
            with open(self.faketime_file, "w") as f:
                f.write("-120\n")
            try:
                time.sleep(self.args.hold)
            finally:
                with open(self.faketime_file, "w") as f:
                    f.write("+0\n")
        with self.fault("redis_rollback", r.name, snapshot_age=self.args.hold):
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
                    "node_kill", "clock_minus", "redis_pause", "pg_restart", "skew_rollback"]
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
                 "cluster_kill_primary": self.f_cluster_kill_primary, "skew_rollback": self.f_skew_rollback}[name]()
            except Exception as e:
                self.history.event("harness_error", text=f"fault {name}: {type(e).__name__}: {e}")
                log("fault error:", name, type(e).__name__, e)
            # A quiet gap: the checker gives 5 s of grace after a fault, and measures the recovery in it.
            self.stop.wait(self.args.gap)

    # ---- the run
