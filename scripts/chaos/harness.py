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
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time

from backends import DelayProxy, Node, RedisCluster, RedisServer, SlowLink
from common import Client, History, Processes, log, ok, run
from faults import Faults
from keys import Keys
from load import Account, Load

try:
    import pyotp
except ImportError:  # TOTP accounts are then left out (chaos.sh installs pyotp).
    pyotp = None


class Harness(Load, Faults, Keys):
    """Setup, the run and the final checks; the load, the faults and the key rotations are mixins (load.py,
    faults.py, keys.py)."""

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

    def cli(self, *args, stdin=None, check=True, timeout=300):
        env = dict(self.env)
        env["WARDEN_REDIS_URL"] = self.cli_redis_url
        r = subprocess.run([self.warden] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, cwd=self.workdir, timeout=timeout)
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
    def run(self):
        self.setup()
        end = time.monotonic() + self.args.minutes * 60
        self.history.event("load_start", minutes=self.args.minutes)
        threads = [threading.Thread(target=self.account_worker, args=(a,), daemon=True) for a in self.accounts]
        threads += [threading.Thread(target=self.crypto_worker, args=(i,), daemon=True) for i in range(self.args.crypto_workers)]
        faults = threading.Thread(target=self.fault_worker, args=(end,), daemon=True)
        keys = [threading.Thread(target=self.scrape_worker, daemon=True)]
        if self.args.rotate_every > 0:
            keys.append(threading.Thread(target=self.rotation_worker, args=(end,), daemon=True))
        for t in threads + keys:
            t.start()
        faults.start()
        while time.monotonic() < end:
            time.sleep(0.5)
        self.stop.set()
        faults.join(timeout=120)
        for t in keys:
            t.join(timeout=150)
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
        self.scrape_key_metrics()
        self.record_key_state()
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
    p.add_argument("--rotate-every", type=float, default=30, help="seconds between rotations of both keys during the load (0: none)")
    p.add_argument("--scrape-every", type=float, default=2, help="seconds between reads of each node's unknown-key counts")
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
