"""Key rotations during the load, and each node's count of keys it met before loading them."""

import http.client
import re
import time

from common import log

UNKNOWN = re.compile(r'^warden_key_unknown_reloads\{key="(field|signing)"\} ([0-9.e+]+)$', re.M)


class Keys:
    """The key part of the harness (a mixin: `Harness` holds the nodes, the CLI and the history).

    Every `--rotate-every` seconds both keys rotate with the operators' commands, `warden keys rotate`
    and `warden keys rotate --signing-key`, against the shared PostgreSQL while the load runs: the
    two-phase rollout (publish, every node acknowledges, promote) across three `warden serve` processes,
    one of them under libfaketime and one behind the slow link. Rotations are not faults: nothing they
    cause is excused. Every `--scrape-every` seconds each node's `warden_key_unknown_reloads` is read from
    `GET /metrics`; the checker requires it to stay 0 (a node met a ciphertext or a token under a key it
    had not loaded: someone sealed or signed too early).
    """

    def rotation_worker(self, end):
        time.sleep(self.args.warmup)
        while not self.stop.is_set() and time.monotonic() < end - self.args.gap:
            for key in ("field", "signing"):
                m0 = time.monotonic()
                r = self.cli("keys", "rotate", *(["--signing-key"] if key == "signing" else []), check=False)
                words = r.stdout.split()
                self.history.event("key_rotation", key=key, m0=m0, m1=time.monotonic(), status=r.returncode,
                                   result=words[0].rstrip(":") if words else None,
                                   error=r.stderr.strip()[-300:] if r.returncode else None)
                if r.returncode:
                    log("key rotation", key, "failed:", r.stderr.strip()[-200:])
            self.stop.wait(self.args.rotate_every)

    def scrape_worker(self):
        while not self.stop.is_set():
            self.scrape_key_metrics()
            self.stop.wait(self.args.scrape_every)
        self.scrape_key_metrics()

    def scrape_key_metrics(self):
        for node in self.nodes:
            try:
                c = http.client.HTTPConnection(node.host, node.port, timeout=3)
                c.request("GET", "/metrics")
                resp = c.getresponse()
                text = resp.read().decode()
                c.close()
            except OSError:
                continue  # a node being killed; the next scrape reads its successor
            if resp.status != 200:
                continue
            counts = {k: float(v) for k, v in UNKNOWN.findall(text)}
            self.history.event("key_metrics", node=node.index, pid=node.proc.pid if node.proc else None,
                               field=counts.get("field"), signing=counts.get("signing"))
