#!/usr/bin/env python3
"""Path validation of a certificate pinned as its own trust anchor, with pyca/cryptography's RFC 5280
verifier (`cryptography.x509.verification`), as a client that pins Warden's certificate would run it.

Usage: rfc5280_verify.py CERT_PEM NAME...   (each NAME a DNS name or a literal IP address)

For each name, builds a server verifier whose only trust anchor is the certificate itself and verifies
the certificate as the leaf, without intermediates, at the current time. Prints one JSON object:
{"results": [{"name": ..., "accepted": true|false, "error": ...}], "authority_key_identifier": hex,
"authority_key_identifier_critical": bool, "subject_key_identifier": hex,
"subject_key_identifier_from_key": hex}. Exits 3 when `cryptography` 43 or later (which has the
verifier) is missing, so the Swift side can say so.
"""
import ipaddress
import json
import sys

try:
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"python3 cannot import cryptography.x509.verification ({error}); "
          "install cryptography 43 or later with: python3 -m pip install -U cryptography", file=sys.stderr)
    sys.exit(3)


def subject_for(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def verify(cert: x509.Certificate, name: str) -> dict:
    verifier = PolicyBuilder().store(Store([cert])).build_server_verifier(subject_for(name))
    try:
        verifier.verify(cert, [])
    except VerificationError as error:
        return {"name": name, "accepted": False, "error": str(error)}
    return {"name": name, "accepted": True, "error": None}


def identifier(cert: x509.Certificate, kind: type) -> "tuple[str | None, bool | None]":
    try:
        extension = cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None, None
    value = extension.value
    digest = value.key_identifier if kind is x509.AuthorityKeyIdentifier else value.digest
    return (digest.hex() if digest is not None else None), extension.critical


def main() -> None:
    with open(sys.argv[1], "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    aki, aki_critical = identifier(cert, x509.AuthorityKeyIdentifier)
    ski, _ = identifier(cert, x509.SubjectKeyIdentifier)
    print(json.dumps({
        "results": [verify(cert, name) for name in sys.argv[2:]],
        "authority_key_identifier": aki,
        "authority_key_identifier_critical": aki_critical,
        "subject_key_identifier": ski,
        # RFC 5280 4.2.1.2 method 1, computed here: SHA-1 of the subjectPublicKey BIT STRING's value.
        "subject_key_identifier_from_key": x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest.hex(),
    }))


if __name__ == "__main__":
    main()
