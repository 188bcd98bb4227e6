#!/usr/bin/env python3
"""A TLS client from Python's `ssl` module, to check the server independently of OpenSSL's CLI.

Usage: tls_client.py PORT CA_FILE SERVER_NAME MIN_VERSION MAX_VERSION   (versions: 1.2 or 1.3)

Connects to 127.0.0.1:PORT, verifying the certificate against CA_FILE and SERVER_NAME, reads one line
and prints one JSON object: {"connected": true, "version": ..., "line": ...} or
{"connected": false, "error": ...}. Exits 0 in both cases; every socket operation has a timeout.
"""
import json
import socket
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def main() -> None:
    port, ca_file, server_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = VERSIONS[sys.argv[4]]
    context.maximum_version = VERSIONS[sys.argv[5]]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                version = tls.version()
                line = tls.makefile("rb").readline().decode("utf-8", "replace").rstrip("\n")
        print(json.dumps({"connected": True, "version": version, "line": line}))
    except (ssl.SSLError, OSError) as error:
        print(json.dumps({"connected": False, "error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
