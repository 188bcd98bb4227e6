"""A real SMTP server (aiosmtpd) for WardenDelivery's tests.

Binds 127.0.0.1 on a free port, prints that port on the first line of stdout, then serves until it is
killed. Every message it accepts is written as one JSON file into OUT_DIR: the envelope, what the
session looked like (TLS, authenticated user, AUTH mechanism) and the message as Python's `email`
package parses it.

    python3 smtp_server.py OUT_DIR [--starttls CERT KEY] [--implicit-tls CERT KEY]
        [--auth USER PASSWORD] [--auth-plaintext] [--exclude-auth MECH ...]
        [--reject-rcpt ADDRESS] [--no-8bitmime]
"""

import argparse
import base64
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import sys
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    def __init__(self, out_dir, reject_rcpt, no_8bitmime):
        self.out_dir = out_dir
        self.reject_rcpt = reject_rcpt
        self.no_8bitmime = no_8bitmime

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.no_8bitmime:
            responses = [line for line in responses if "8BITMIME" not in line]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and address.lower() == self.reject_rcpt.lower():
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_content() if not parsed.is_multipart() else None
        record = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            # session.ssl is set by STARTTLS only; an implicitly encrypted transport has an ssl_object.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": getattr(session, "warden_user", None),
            "auth_mechanism": getattr(session, "warden_mechanism", None),
            "ehlo_name": session.host_name,
            "raw_b64": base64.b64encode(raw).decode("ascii"),
            "headers": {name: str(value) for name, value in parsed.items()},
            "header_counts": {name: len(parsed.get_all(name) or []) for name in parsed.keys()},
            "content_type": parsed.get_content_type(),
            "charset": parsed.get_content_charset(),
            "transfer_encoding": parsed.get("Content-Transfer-Encoding"),
            "body": body,
            "defects": [type(defect).__name__ for defect in parsed.defects],
        }
        path = os.path.join(self.out_dir, f"{uuid.uuid4()}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK queued"


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
    parser.add_argument("--auth-plaintext", action="store_true", help="allow AUTH without TLS")
    parser.add_argument("--exclude-auth", nargs="*", default=[])
    parser.add_argument("--reject-rcpt")
    parser.add_argument("--no-8bitmime", action="store_true")
    args = parser.parse_args()

    handler = Recorder(args.out_dir, args.reject_rcpt, args.no_8bitmime)
    smtp_kwargs = {}
    if args.starttls:
        smtp_kwargs["tls_context"] = tls_context(*args.starttls)
        smtp_kwargs["require_starttls"] = True
    if args.auth:
        user, password = args.auth

        def authenticator(server, session, envelope, mechanism, auth_data):
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False)
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            if ok:
                session.warden_user = user
                session.warden_mechanism = mechanism
            return AuthResult(success=ok, handled=False)

        smtp_kwargs["authenticator"] = authenticator
        smtp_kwargs["auth_required"] = True
        smtp_kwargs["auth_require_tls"] = not args.auth_plaintext
        smtp_kwargs["auth_exclude_mechanism"] = args.exclude_auth
    else:
        # Record the mechanism name even without a check (there is none to make).
        smtp_kwargs["auth_require_tls"] = not args.auth_plaintext

    implicit = tls_context(*args.implicit_tls) if args.implicit_tls else None
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=implicit,
        server_hostname="localhost", **smtp_kwargs,
    )
    controller.start()
    print(port, flush=True)

    # A child inherits its parent's blocked signals; Swift's worker threads block SIGTERM, and a
    # blocked SIGTERM would never reach the handler below.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
