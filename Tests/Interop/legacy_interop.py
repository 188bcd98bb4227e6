#!/usr/bin/env python3
"""Interop fixtures for Warden's tests, made with Python's `cryptography` (a real third-party client).

  legacy                       print JSON fixtures in the original system's three formats, written the way
                               the original code wrote them (keys from DIGITAL_TWIN_MASTER_KEY and
                               DIGITAL_TWIN_ENCRYPTION_KEY in the environment)
  open-envelope KEY CTX TEXT   decrypt a Warden text envelope per docs/formats.md with a known data key
                               (hex) and print the plaintext as hex
  seal-envelope KEY CTX VER NONCE PLAINTEXT
                               build a Warden text envelope per docs/formats.md and print it
  json-envelope VERSION PLAINTEXT
                               print the original's JSON envelope of PLAINTEXT under VERSION (any string),
                               key from DIGITAL_TWIN_MASTER_KEY, built from AESGCM and hashlib's PBKDF2
  decode-keys JSON             for each string of the JSON list, print what base64.urlsafe_b64decode and
                               base64.b64decode make of it: [hex or null, hex or null]
"""
import base64
import binascii
import hashlib
import json
import os
import secrets
import sys
from datetime import datetime, timezone

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC


def pbkdf2(password: bytes, salt: bytes) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100000).derive(password)


def original_json_envelope(master_key_text: str, data) -> bytes:
    """enhanced_encryption.py: encrypt_sensitive_field."""
    master_key = base64.urlsafe_b64decode(master_key_text.encode())
    version = f"v_{datetime.now(timezone.utc).strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(4)}"
    key = pbkdf2(master_key, version.encode() + b"digital_twin_salt")
    data_str = json.dumps(data) if not isinstance(data, str) else data
    iv = secrets.token_bytes(12)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    ciphertext = encryptor.update(data_str.encode("utf-8")) + encryptor.finalize()
    package = {
        "version": version,
        "iv": base64.b64encode(iv).decode(),
        "tag": base64.b64encode(encryptor.tag).decode(),
        "data": base64.b64encode(ciphertext).decode(),
        "algorithm": "AES-256-GCM",
    }
    return json.dumps(package).encode()


def original_raw_fernet(encryption_key_text: str, data) -> bytes:
    """shared/security/digital_twin_encryption.py: Fernet with the raw key on str(data)."""
    return Fernet(encryption_key_text.encode()).encrypt(str(data).encode())


def original_twin_fernet(encryption_key_text: str, value, field: str) -> bytes:
    """twin/security/digital_twin_encryption.py, as used by SecureDigitalTwinDB."""
    key_bytes = base64.b64decode(encryption_key_text)
    assert len(key_bytes) == 32
    fernet_key = base64.urlsafe_b64encode(pbkdf2(key_bytes, b"digital_twin_salt_aivillage_2025"))
    payload = {
        "data": str(value),
        "meta": {
            "field": field,
            "encrypted_at": datetime.now().isoformat(),
            "compliance_flags": {"coppa": False, "ferpa": True, "gdpr": True},
        },
    }
    return Fernet(fernet_key).encrypt(json.dumps(payload).encode())


def legacy() -> None:
    master = os.environ["DIGITAL_TWIN_MASTER_KEY"]
    encryption = os.environ["DIGITAL_TWIN_ENCRYPTION_KEY"]
    try:
        # The digital-twin module's own check (lenient decoding, then the length): a key with "-" or "_"
        # never worked for it.
        twin_possible = len(base64.b64decode(encryption)) == 32
    except ValueError:
        twin_possible = False
    values = ["ada@example.com", "Zoë 🙂 ✓", "", {"street": "1 Main St", "zip": 12345}, 123, ["a", None, True]]
    cases = []
    for value in values:
        expected = value if isinstance(value, str) else json.dumps(value)
        cases.append({"format": "legacy-json", "input": original_json_envelope(master, value).decode(), "expected": expected})
        cases.append({"format": "legacy-fernet", "input": original_raw_fernet(encryption, value).decode(), "expected": str(value)})
        if twin_possible:
            cases.append({"format": "legacy-twin-fernet", "input": original_twin_fernet(encryption, value, "email").decode(), "expected": str(value)})
    json.dump(cases, sys.stdout)


def json_envelope(version: str, plaintext: str) -> None:
    """The original's envelope for any version string (its code derived a key for whatever it was given)."""
    master_key = base64.urlsafe_b64decode(os.environ["DIGITAL_TWIN_MASTER_KEY"].encode())
    key = hashlib.pbkdf2_hmac("sha256", master_key, version.encode() + b"digital_twin_salt", 100000, 32)
    iv = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    print(json.dumps({
        "version": version,
        "iv": base64.b64encode(iv).decode(),
        "tag": base64.b64encode(tag).decode(),
        "data": base64.b64encode(ciphertext).decode(),
        "algorithm": "AES-256-GCM",
    }))


def decode_keys(cases: str) -> None:
    def attempt(decode, text):
        try:
            return decode(text).hex()
        except (ValueError, binascii.Error):
            return None
    json.dump([[attempt(base64.urlsafe_b64decode, text), attempt(base64.b64decode, text)] for text in json.loads(cases)], sys.stdout)


def header(version: int) -> bytes:
    return bytes([0x57, 0x01]) + version.to_bytes(4, "big")


def open_envelope(key_hex: str, context: str, text: str) -> None:
    prefix, version, body = text.split(":", 2)
    assert prefix == "wd1"
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    nonce, sealed = raw[:12], raw[12:]
    plaintext = AESGCM(bytes.fromhex(key_hex)).decrypt(nonce, sealed, header(int(version)) + context.encode())
    print(plaintext.hex())


def seal_envelope(key_hex: str, context: str, version: str, nonce_hex: str, plaintext: str) -> None:
    nonce = bytes.fromhex(nonce_hex)
    sealed = AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, plaintext.encode(), header(int(version)) + context.encode())
    print(f"wd1:{int(version)}:" + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("="))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {
        "legacy": legacy, "open-envelope": open_envelope, "seal-envelope": seal_envelope,
        "json-envelope": json_envelope, "decode-keys": decode_keys,
    }[command](*arguments)
