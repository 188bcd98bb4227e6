"""Shared pieces of the chaos harness: fingerprints, the history file, the process list, HTTP calls."""

import hashlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time


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
