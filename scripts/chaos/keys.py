"""Key rotations during the load, each node's count of keys it met before loading them, and the keys'
state at the end."""

import http.client
import json
import os
import re
import time

from common import log, run

UNKNOWN = re.compile(r'^warden_key_unknown_reloads\{key="(field|signing)"\} ([0-9.e+]+)$', re.M)


class Keys:
    """The key part of the harness (a mixin: `Harness` holds the nodes, the CLI and the history).

    Every `--rotate-every` seconds both keys rotate with the operators' commands, `warden keys rotate`
    and `warden keys rotate --signing-key`, against the shared PostgreSQL while the load runs: the
    two-phase rollout (publish, every node acknowledges, promote) across three `warden serve` processes,
    one of them under libfaketime and one behind the slow link. Rotations are not faults: nothing they
    cause is excused. Every `--scrape-every` seconds each node's `warden_key_unknown_reloads` is read from
    `GET /metrics`; the checker requires it to stay 0 (a node met a ciphertext or a token under a key it
    had not loaded: someone sealed or signed too early). At the end the keys' state is recorded, so
    that the checker can tell that every published key was promoted.
    """

    def rotation_worker(self, end):
        time.sleep(self.args.warmup)
        while not self.stop.is_set() and time.monotonic() < end - self.args.gap:
            for key in ("field", "signing"):
                m0 = time.monotonic()
                self.history.event("key_rotation_start", key=key, m0=m0)
                try:
                    r = self.cli("keys", "rotate", *(["--signing-key"] if key == "signing" else []), check=False, timeout=60)
                    status, out, err = r.returncode, r.stdout, r.stderr
                except Exception as e:  # a hung command (subprocess.TimeoutExpired) or a harness fault
                    status, out, err = None, "", f"{type(e).__name__}: {e}"
                words = out.split()
                self.history.event("key_rotation", key=key, m0=m0, m1=time.monotonic(), status=status,
                                   result=words[0].rstrip(":") if words else None,
                                   error=err.strip()[-300:] if status != 0 else None)
                if status != 0:
                    log("key rotation", key, "failed:", err.strip()[-200:])
            self.stop.wait(self.args.rotate_every)

    def scrape_worker(self):
        while not self.stop.is_set():
            self.scrape_key_metrics()
            self.stop.wait(self.args.scrape_every)
        self.scrape_key_metrics()

    def scrape_key_metrics(self):
        for node in self.nodes:
            pid = node.proc.pid if node.proc else None
            try:
                c = http.client.HTTPConnection(node.host, node.port, timeout=3)
                c.request("GET", "/metrics")
                resp = c.getresponse()
                status, text = resp.status, resp.read().decode()
                c.close()
            except (OSError, http.client.HTTPException) as e:
                # A node being killed; the checker requires reads of every node, so a node that can never
                # be read shows.
                self.history.event("key_metrics_error", node=node.index, pid=pid, error=f"{type(e).__name__}: {e}"[:200])
                continue
            if status != 200:
                self.history.event("key_metrics_error", node=node.index, pid=pid, error=f"GET /metrics answered {status}")
                continue
            counts = {k: float(v) for k, v in UNKNOWN.findall(text)}
            # A missing series is recorded as null, which the checker counts as a violation.
            self.history.event("key_metrics", node=node.index, pid=pid, field=counts.get("field"), signing=counts.get("signing"))

    def record_key_state(self):
        """The field keyring's versions (`warden keys status --json`) and the signing keys (from the table)."""
        status = self.cli("keys", "status", "--json", check=False)
        field = json.loads(status.stdout) if status.returncode == 0 else None
        rows = run([os.path.join(self.pg_bin(), "psql"), self.args.database_url, "-At", "-F", "\t", "-c",
                    "SELECT kid, created_at, coalesce(signs_from::text, ''), coalesce(retired_at::text, '') FROM warden_signing_keys"]).stdout
        signing = [{"kid": k, "created_ms": int(c), "signs_from_ms": int(s) if s else None, "retired_ms": int(r) if r else None}
                   for k, c, s, r in (line.split("\t") for line in rows.splitlines())]
        self.history.event("key_state", now=time.time(), field=field, signing=signing,
                           error=None if field else (status.stderr.strip()[-300:] or "keys status failed"))
