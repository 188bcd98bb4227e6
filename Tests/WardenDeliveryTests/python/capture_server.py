"""A local stand-in for an HTTP SMS provider, for WardenDelivery's tests.

Binds 127.0.0.1 on a free port, prints that port on the first line of stdout, then records every
request (method, path, headers, body as base64) as one JSON file in OUT_DIR and answers with the
status it was given. Like a real provider, its answers echo the message body back, so tests can check
that the client never copies a response into an error or a log line.

    python3 capture_server.py OUT_DIR [--status 201|400|401|429|503|302] [--hang]
"""

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--status", type=int, default=201)
    parser.add_argument("--hang", action="store_true", help="record the request, then never answer")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *arguments):
            pass

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = {
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body_b64": base64.b64encode(body).decode("ascii"),
            }
            path = os.path.join(args.out_dir, f"{uuid.uuid4()}.json")
            with open(path + ".tmp", "w", encoding="utf-8") as file:
                json.dump(record, file)
            os.rename(path + ".tmp", path)
            if args.hang:
                time.sleep(3600)
                return
            echoed = parse_qs(body.decode("utf-8", "replace")).get("Body", [""])[0]
            if 200 <= args.status < 300:
                answer = {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "body": echoed}
            else:
                answer = {"code": 21211, "message": f"cannot send '{echoed}'", "status": args.status}
            payload = json.dumps(answer).encode("utf-8")
            self.send_response(args.status)
            if args.status in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle
        do_GET = _handle

    # A child inherits its parent's blocked signals; Swift's worker threads block SIGTERM, and a
    # blocked SIGTERM would never reach the handler below.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
