#!/usr/bin/env python3
"""Session resumption as Python's `ssl` module does it: connect, keep the session, connect again with it.

Usage: tls_resume.py FIRST_PORT SECOND_PORT CA_FILE SERVER_NAME VERSION   (version: 1.2 or 1.3)

Connects to 127.0.0.1:FIRST_PORT, reads the server's line (in TLS 1.3 the session ticket arrives after
the handshake, with the server's first data), then connects to 127.0.0.1:SECOND_PORT offering that
session. Prints one JSON object: {"first_reused": ..., "second_reused": ..., "versions": [...],
"lines": [...], "had_session": ...}. Every socket operation has a timeout.
"""
import json
import socket
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def connect(context: ssl.SSLContext, port: int, server_name: str, session):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_name, session=session) as tls:
            line = tls.makefile("rb").readline().decode("utf-8", "replace").rstrip("\n")
            return tls.session, tls.session_reused, tls.version(), line


def main() -> None:
    first_port, second_port = int(sys.argv[1]), int(sys.argv[2])
    ca_file, server_name, version = sys.argv[3], sys.argv[4], VERSIONS[sys.argv[5]]
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = version
    context.maximum_version = version
    session, first_reused, first_version, first_line = connect(context, first_port, server_name, None)
    _, second_reused, second_version, second_line = connect(context, second_port, server_name, session)
    print(json.dumps({
        "had_session": session is not None and session.has_ticket,
        "first_reused": first_reused,
        "second_reused": second_reused,
        "versions": [first_version, second_version],
        "lines": [first_line, second_line],
    }))


if __name__ == "__main__":
    main()
