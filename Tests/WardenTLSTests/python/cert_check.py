#!/usr/bin/env python3
"""Independent check of a generated certificate and key, with the `cryptography` package.

Usage: cert_check.py CERT_PEM KEY_PEM

Prints one JSON object: the subject alternative names, key size, signature algorithm, the extensions
a TLS server certificate needs, whether the self-signature verifies and whether the key file holds the
private key of the certificate. Exits 3 when `cryptography` is missing, so the Swift side can say so.
"""
import json
import sys

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"python3 cannot import the 'cryptography' package ({error}); "
          "install it with: python3 -m pip install cryptography", file=sys.stderr)
    sys.exit(3)


def key_type(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {public_key.curve.name}"
    return type(public_key).__name__


def main() -> None:
    cert_path, key_path = sys.argv[1], sys.argv[2]
    with open(cert_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(key_path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)

    public_key = cert.public_key()
    extensions = cert.extensions
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    basic = extensions.get_extension_for_class(x509.BasicConstraints)
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    ski = extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    try:
        cert.verify_directly_issued_by(cert)
        self_signed = True
    except Exception:  # noqa: BLE001 - any failure means "does not verify"
        self_signed = False

    result = {
        "version": cert.version.name,
        "serial_bytes": (cert.serial_number.bit_length() + 7) // 8,
        "serial_positive": cert.serial_number > 0,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": san.value.get_values_for_type(x509.DNSName),
        "ip_addresses": [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)],
        "ip_address_lengths": [ip.packed.__len__() for ip in san.value.get_values_for_type(x509.IPAddress)],
        "key_type": key_type(public_key),
        "key_size": public_key.key_size,
        "signature_algorithm": cert.signature_algorithm_oid._name,
        "signature_hash": cert.signature_hash_algorithm.name,
        "self_signature_valid": self_signed,
        "key_matches_certificate": key.public_key().public_numbers() == public_key.public_numbers(),
        "basic_constraints": {"ca": basic.value.ca, "critical": basic.critical},
        "key_usage": {
            "digital_signature": usage.value.digital_signature,
            "key_encipherment": usage.value.key_encipherment,
            "key_cert_sign": usage.value.key_cert_sign,
            "critical": usage.critical,
        },
        "extended_key_usage": ["serverAuth" if oid == ExtendedKeyUsageOID.SERVER_AUTH else oid.dotted_string
                               for oid in eku.value],
        "subject_key_identifier_bytes": len(ski.value.digest),
        "not_before": int(cert.not_valid_before_utc.timestamp()),
        "not_after": int(cert.not_valid_after_utc.timestamp()),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
