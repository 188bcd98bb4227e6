"""Real authenticator output for Warden's WebAuthn tests, and a second opinion on it.

soft-webauthn's SoftWebauthnDevice (an ES256 software authenticator built on python-fido2) answers
Warden's own creation and request options; python-fido2's Fido2Server verifies the same bytes Warden
verifies.

  soft_authenticator.py make <origin> <creation-options-json> <request-options-json>
      Registers a credential and signs one assertion. Prints one JSON object:
      {"registration": RegistrationResponseJSON, "assertion": AuthenticationResponseJSON}
      both in the shape of PublicKeyCredential.toJSON() (unpadded base64url byte fields).

  soft_authenticator.py verify <rp-id> <origin> <registration-challenge-b64url> <assertion-challenge-b64url>
                               <registration-json> <assertion-json>
      Exits 0 when Fido2Server.register_complete and authenticate_complete both accept the responses,
      1 (with the reason on stderr) when either refuses.
"""
import json
import sys
from base64 import urlsafe_b64decode, urlsafe_b64encode

import fido2.features
from fido2.server import Fido2Server
from soft_webauthn import SoftWebauthnDevice

# python-fido2 1.x reads the WebAuthn JSON mapping (unpadded base64url strings) only with this switched on.
fido2.features.webauthn_json_mapping.enabled = True


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(origin: str, creation_json: str, request_json: str) -> int:
    creation = json.loads(creation_json)
    request = json.loads(request_json)
    # What PublicKeyCredential.parseCreationOptionsFromJSON() does: base64url strings to bytes.
    creation["challenge"] = unb64(creation["challenge"])
    creation["user"]["id"] = unb64(creation["user"]["id"])
    request["challenge"] = unb64(request["challenge"])

    device = SoftWebauthnDevice()
    created = device.create({"publicKey": creation}, origin)
    asserted = device.get({"publicKey": request}, origin)

    registration = {
        "id": b64(created["rawId"]),
        "rawId": b64(created["rawId"]),
        "type": created["type"],
        "response": {
            "clientDataJSON": b64(created["response"]["clientDataJSON"]),
            "attestationObject": b64(created["response"]["attestationObject"]),
            "transports": ["usb"],
        },
        "authenticatorAttachment": "cross-platform",
        "clientExtensionResults": {},
    }
    assertion = {
        "id": b64(asserted["rawId"]),
        "rawId": b64(asserted["rawId"]),
        "type": asserted["type"],
        "response": {
            "clientDataJSON": b64(asserted["response"]["clientDataJSON"]),
            "authenticatorData": b64(asserted["response"]["authenticatorData"]),
            "signature": b64(asserted["response"]["signature"]),
            "userHandle": b64(asserted["response"]["userHandle"]),
        },
        "authenticatorAttachment": "cross-platform",
        "clientExtensionResults": {},
    }
    print(json.dumps({"registration": registration, "assertion": assertion}))
    return 0


def verify(rp_id: str, origin: str, registration_challenge: str, assertion_challenge: str, registration: str, assertion: str) -> int:
    server = Fido2Server({"id": rp_id, "name": "Warden test"}, verify_origin=lambda o: o == origin)
    try:
        auth_data = server.register_complete(
            {"challenge": registration_challenge, "user_verification": "discouraged"}, json.loads(registration))
        server.authenticate_complete(
            {"challenge": assertion_challenge, "user_verification": "discouraged"},
            [auth_data.credential_data], json.loads(assertion))
    except ValueError as error:
        print(f"fido2 refused: {error}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    if sys.argv[1] == "make":
        return make(*sys.argv[2:5])
    if sys.argv[1] == "verify":
        return verify(*sys.argv[2:8])
    return 2


if __name__ == "__main__":
    sys.exit(main())
