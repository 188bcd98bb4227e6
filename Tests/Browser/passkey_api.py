"""Passkeys through the JSON API, against a live `warden serve` (scripts/browser-test.sh starts it).

A software authenticator (soft-webauthn's SoftWebauthnDevice, ES256) registers passkeys through
/auth/passkeys/register/options and /auth/passkeys/register, signs in without a password, and completes a
password login's challenge. python-fido2's Fido2Server checks the same registration and assertion bytes as a
second opinion. Then every forgery and replay we can think of must be refused with a 4xx (never a 5xx):
tampered client data, a foreign origin, a foreign RP ID hash, a ceremony token used twice, an assertion used
twice, a counter that does not advance (the passkey is flagged and stays refused), an unknown credential,
another account's user handle, a disabled account, a passkey that did not verify its user; where the server
audits a reason, the audit log must name the one each forgery was made to provoke. Finally 20 concurrent
sign-ins with one ceremony and one assertion: exactly one succeeds.

Usage: passkey_api.py BASE_URL [OPERATOR_USERNAME OPERATOR_PASSWORD]
  (the operator, who may disable accounts and read the audit log, is needed for the disabled-account and
  audit checks)

Every request goes out from its own loopback address (127.0.0.2, 127.0.0.3, ...), or from one fixed address
where the server ties state to the device (a login challenge): the per-address limits (30 auth requests a
minute, 10 passwordless attempts a minute, 30 MFA verifications in 5 minutes) would otherwise answer 429
long before the checks are done, and the concurrency check would race the rate limiter, not the ceremony.
"""

import argparse
import base64
import hashlib
import http.client
import ssl
import itertools
import json
import os
import struct
import sys
import threading
import urllib.parse

import fido2.features
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.server import Fido2Server
from soft_webauthn import SoftWebauthnDevice

# python-fido2 1.x reads the WebAuthn JSON forms (unpadded base64url strings) only with this switched on.
fido2.features.webauthn_json_mapping.enabled = True

PASSED, FAILED = [], []
USER_PRESENT, USER_VERIFIED = 0x01, 0x04


def check(condition, message, detail=""):
    if not condition:
        FAILED.append(message + (": " + str(detail) if detail != "" else ""))
    elif message not in PASSED:  # the steps every flow repeats are listed once
        PASSED.append(message)
    return condition


def require(condition, message, detail=""):
    """A check the rest of the run depends on: stop when it fails."""
    if not check(condition, message, detail):
        raise AssertionError(message + (": " + str(detail) if detail != "" else ""))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- HTTP


_ADDRESSES = itertools.count()
_ADDRESS_LOCK = threading.Lock()


def next_address():
    with _ADDRESS_LOCK:
        n = next(_ADDRESSES)
    return "127.0.%d.%d" % (n // 250, n % 250 + 2)


class Client:
    """JSON over one loopback source address (a new one per client unless given)."""

    def __init__(self, base, address=None):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.host_header = "127.0.0.1", url.port, url.netloc
        self.tls = url.scheme == "https"
        self.address = address or next_address()

    def call(self, method, path, body=None, token=None):
        if self.tls:
            # The embedded default's self-signed certificate.
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=60, source_address=(self.address, 0),
                                                     context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(self.address, 0))
        headers = {"Host": self.host_header, "User-Agent": "passkey_api.py", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read()
            is_json = (response.getheader("Content-Type") or "").startswith("application/json")
            return response.status, (json.loads(text) if text and is_json else text)
        finally:
            connection.close()


def refused(status):
    """A refusal as the API should give it: a client error, never a server error."""
    return 400 <= status < 500


# --- The authenticator


class Authenticator(SoftWebauthnDevice):
    """soft-webauthn's device, and assertions it cannot make itself.

    SoftWebauthnDevice.get() always writes the flags byte 0x01: user present, never user verified (and its
    create() writes 0x41, UP|AT). That is enough for a passkey completing a password login (Warden asks
    `userVerification: "preferred"` there) and for registration (UV not required), but passwordless sign-in
    requires UV, which soft-webauthn has no way to set. So `assertion()` builds the authenticator data here —
    SHA-256(RP ID) ‖ flags ‖ counter — and signs `authenticatorData ‖ SHA-256(clientDataJSON)` with the
    device's own private key (ES256, as get() does), with UP|UV by default. Its knobs make the forgeries: a
    foreign origin or RP ID, a counter of our choosing, another user handle or credential id.
    """

    def register_response(self, options, origin):
        """Runs create() on the server's PublicKeyCredentialCreationOptionsJSON and answers in the shape of
        PublicKeyCredential.toJSON()."""
        parsed = dict(options, challenge=unb64(options["challenge"]), user=dict(options["user"], id=unb64(options["user"]["id"])))
        created = self.create({"publicKey": parsed}, origin)
        return {
            "id": b64(created["rawId"]), "rawId": b64(created["rawId"]), "type": "public-key",
            "response": {"clientDataJSON": b64(created["response"]["clientDataJSON"]),
                         "attestationObject": b64(created["response"]["attestationObject"]), "transports": ["internal"]},
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
        }

    def library_assertion(self, options, origin):
        """soft-webauthn's own get() (UP only), as toJSON() would give it."""
        asserted = self.get({"publicKey": dict(options, challenge=unb64(options["challenge"]))}, origin)
        return self._json(asserted["rawId"], asserted["response"]["clientDataJSON"], asserted["response"]["authenticatorData"],
                          asserted["response"]["signature"], asserted["response"]["userHandle"])

    def assertion(self, options, origin, flags=USER_PRESENT | USER_VERIFIED, counter=None, rp_id=None, user_handle=None, credential_id=None):
        if counter is None:
            self.sign_count += 1
            counter = self.sign_count
        client_data = json.dumps({"type": "webauthn.get", "challenge": options["challenge"], "origin": origin}).encode()
        authenticator_data = sha256((rp_id or options["rpId"]).encode()) + bytes([flags]) + struct.pack(">I", counter)
        signature = self.private_key.sign(authenticator_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
        return self._json(credential_id or self.credential_id, client_data, authenticator_data, signature,
                          self.user_handle if user_handle is None else user_handle)

    @staticmethod
    def _json(raw_id, client_data, authenticator_data, signature, user_handle):
        return {
            "id": b64(raw_id), "rawId": b64(raw_id), "type": "public-key",
            "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(authenticator_data),
                         "signature": b64(signature), "userHandle": b64(user_handle)},
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
        }


def tampered(credential):
    """The same assertion with a field added to its client data after signing: challenge, origin and type
    still check out, only the signature can catch it."""
    client_data = json.loads(unb64(credential["response"]["clientDataJSON"]))
    client_data["crossOrigin"] = False
    response = dict(credential["response"], clientDataJSON=b64(json.dumps(client_data).encode()))
    return dict(credential, response=response)


# --- The flows


class Person:
    """An account of our own, its password session and its authenticator."""

    def __init__(self, base, label):
        self.base = base
        self.client = Client(base)
        self.username = "%s-%s" % (label, os.urandom(4).hex())
        self.password = "passkey api check %s" % os.urandom(9).hex()
        status, body = self.client.call("POST", "/auth/register", {"username": self.username, "password": self.password})
        require(status == 201, "POST /auth/register creates %s" % label, (status, body))
        self.id = body["id"]
        status, body = self.client.call("POST", "/auth/login", {"username": self.username, "password": self.password})
        require(status == 200 and "access_token" in body, "%s logs in with the password" % label, (status, body))
        self.token = body["access_token"]
        self.device = Authenticator()
        self.creation = self.registration = self.passkey = None

    def register_passkey(self, name="Soft authenticator"):
        status, body = self.client.call("POST", "/auth/passkeys/register/options", token=self.token)
        require(status == 200 and "ceremony" in body and "publicKey" in body, "register/options gives a ceremony and creation options", (status, body))
        self.creation = body["publicKey"]
        self.registration = self.device.register_response(self.creation, self.base)
        status, passkey = self.client.call("POST", "/auth/passkeys/register", {
            "ceremony": body["ceremony"], "credential": self.registration, "name": name, "current_password": self.password}, token=self.token)
        require(status == 201 and passkey.get("credential_id") == b64(self.device.credential_id),
                "POST /auth/passkeys/register answers 201 with the passkey", (status, passkey))
        self.passkey = passkey
        return passkey

    def passkeys(self):
        status, body = self.client.call("GET", "/auth/passkeys", token=self.token)
        require(status == 200, "GET /auth/passkeys answers 200", (status, body))
        return body["passkeys"]


def sign_in_options(base):
    status, body = Client(base).call("POST", "/auth/passkeys/login/options")
    require(status == 200 and body["publicKey"].get("userVerification") == "required", "login/options asks for user verification", (status, body))
    return body["ceremony"], body["publicKey"]


def sign_in(base, ceremony, credential):
    return Client(base).call("POST", "/auth/passkeys/login", {"ceremony": ceremony, "credential": credential})


def fido2_server(origin):
    return Fido2Server({"id": "localhost", "name": "Warden"}, verify_origin=lambda presented: presented == origin)


def fido2_refuses(server, state, credentials, assertion):
    try:
        server.authenticate_complete(state, credentials, assertion)
    except ValueError:
        return True
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("operator", nargs="?")
    parser.add_argument("operator_password", nargs="?")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    foreign_origin = "http://evil.example:%d" % urllib.parse.urlsplit(base).port

    # --- Registration and listing.
    alice = Person(base, "alice")
    status, body = alice.client.call("POST", "/auth/passkeys/register/options", token=alice.token)
    options = body["publicKey"]
    check(status == 200 and options["rp"]["id"] == "localhost" and options["attestation"] == "none"
          and options["authenticatorSelection"]["residentKey"] == "required", "creation options: RP localhost, no attestation, a discoverable credential", options)
    passkey = alice.register_passkey()
    check(passkey["flagged"] is False and passkey["algorithm"] == -7 and passkey["sign_count"] == 0, "the new passkey: ES256, counter 0, not flagged", passkey)
    listed = alice.passkeys()
    check([p["credential_id"] for p in listed] == [b64(alice.device.credential_id)], "GET /auth/passkeys lists it", listed)
    status, _ = alice.client.call("POST", "/auth/passkeys/" + passkey["id"], {"name": "Laptop"}, token=alice.token)
    check(status == 204 and alice.passkeys()[0]["name"] == "Laptop", "POST /auth/passkeys/:id renames it", status)
    status, body = alice.client.call("POST", "/auth/passkeys/register", {"ceremony": "x.y", "credential": alice.registration}, token=alice.token)
    check(refused(status), "a made-up registration ceremony is refused", status)

    # --- Passwordless sign-in, and python-fido2's verdict on the same bytes.
    ceremony, request = sign_in_options(base)
    assertion = alice.device.assertion(request, base)
    status, tokens = sign_in(base, ceremony, assertion)
    require(status == 200 and "access_token" in tokens, "POST /auth/passkeys/login signs in without a password", (status, tokens))
    check(tokens.get("authentication_level") == "passkey", "the passwordless session's level is passkey", tokens.get("authentication_level"))
    status, _ = Client(base).call("GET", "/auth/passkeys", token=tokens["access_token"])
    check(status == 200, "the passwordless session's token works")
    server = fido2_server(base)
    try:
        credential = server.register_complete({"challenge": alice.creation["challenge"], "user_verification": "discouraged"}, alice.registration).credential_data
        check(True, "python-fido2 accepts the registration Warden accepted")
        server.authenticate_complete({"challenge": request["challenge"], "user_verification": "required"}, [credential], assertion)
        check(True, "python-fido2 accepts the assertion Warden accepted")
    except ValueError as error:
        credential = None
        check(False, "python-fido2 accepts what Warden accepted", error)
    used = (ceremony, assertion)

    # --- Refusals (each with a fresh ceremony unless the ceremony is the point). The answer is the same 401
    # for each; the audit log, read at the end, must name the reason we meant to provoke (matched by the
    # refused request's source address).
    audited = []

    def refusal(message, credential_for, fido2_too=False, audit=None):
        ceremony, request = sign_in_options(base)
        forged = credential_for(request)
        client = Client(base)
        status, body = client.call("POST", "/auth/passkeys/login", {"ceremony": ceremony, "credential": forged})
        check(refused(status), message + " (%d)" % status, body)
        if fido2_too and credential is not None:
            check(fido2_refuses(fido2_server(base), {"challenge": request["challenge"], "user_verification": "required"}, [credential], forged),
                  "python-fido2 also refuses: " + message)
        if audit:
            audited.append((client.address, audit, message))

    refusal("a tampered clientDataJSON is refused", lambda r: tampered(alice.device.assertion(r, base)), fido2_too=True,
            audit=("mfa.passkey_refused", "webauthn.bad_signature"))
    refusal("a foreign origin in clientDataJSON is refused", lambda r: alice.device.assertion(r, foreign_origin), fido2_too=True,
            audit=("mfa.passkey_refused", "webauthn.origin_mismatch"))
    refusal("a foreign RP ID hash in authenticatorData is refused", lambda r: alice.device.assertion(r, base, rp_id="evil.example"), fido2_too=True,
            audit=("mfa.passkey_refused", "webauthn.rp_id_mismatch"))
    refusal("an assertion without user verification (soft-webauthn's own, UP only) is refused", lambda r: alice.device.library_assertion(r, base),
            fido2_too=True, audit=("mfa.passkey_refused", "webauthn.user_verification_required"))
    refusal("an unknown credential id is refused", lambda r: alice.device.assertion(r, base, credential_id=os.urandom(32)))
    status, body = sign_in(base, *used)
    check(refused(status), "a used ceremony with its used assertion is refused (%d)" % status, body)
    refusal("a used assertion under a fresh ceremony is refused", lambda r: used[1], audit=("mfa.passkey_refused", "webauthn.challenge_mismatch"))
    ceremony, request = sign_in_options(base)
    status, _ = sign_in(base, ceremony, alice.device.assertion(request, base))
    require(status == 200, "a fresh ceremony and assertion sign in", status)
    status, body = sign_in(base, ceremony, alice.device.assertion(request, base))
    check(refused(status), "a replayed ceremony is refused even with a fresh valid signature (%d)" % status, body)

    # --- Another account: its user handle on alice's credential; then a password login completed by a passkey.
    bob = Person(base, "bob")
    bob.register_passkey()
    refusal("another account's user handle is refused", lambda r: alice.device.assertion(r, base, user_handle=bob.device.user_handle))
    status, login = bob.client.call("POST", "/auth/login", {"username": bob.username, "password": bob.password})
    require(status == 200 and login.get("mfa_required") is True, "a password login of an account with a passkey answers mfa_required", (status, login))
    check("passkey" in login.get("methods", []), "passkey is among the challenge's methods", login.get("methods"))
    status, body = bob.client.call("POST", "/auth/mfa/passkey/options", {"challenge": login["challenge"]})
    require(status == 200 and "publicKey" in body, "POST /auth/mfa/passkey/options gives request options", (status, body))
    check([c["id"] for c in body["publicKey"]["allowCredentials"]] == [b64(bob.device.credential_id)], "the options allow the account's passkey", body)
    status, tokens = bob.client.call("POST", "/auth/mfa/passkey", {"challenge": login["challenge"], "credential": bob.device.library_assertion(body["publicKey"], base)})
    check(status == 200 and tokens.get("authentication_level") == "mfa", "POST /auth/mfa/passkey completes the login at level mfa", (status, tokens))
    status, body = bob.client.call("POST", "/auth/mfa/passkey", {"challenge": login["challenge"], "credential": bob.device.library_assertion(body["publicKey"], base)})
    check(refused(status), "the login challenge completes once (%d)" % status, body)
    if "access_token" in tokens:
        status, body = bob.client.call("DELETE", "/auth/passkeys/" + bob.passkey["id"], {}, token=tokens["access_token"])
        check(status == 204, "DELETE /auth/passkeys/:id removes a passkey (MFA-level session)", (status, body))
        status, body = bob.client.call("GET", "/auth/passkeys", token=tokens["access_token"])
        check(status == 200 and body["passkeys"] == [], "the list is empty after removal", body)

    # --- Counter regression: a counter that does not advance flags the passkey, which then stays refused.
    carol = Person(base, "carol")
    carol.register_passkey()
    ceremony, request = sign_in_options(base)
    status, _ = sign_in(base, ceremony, carol.device.assertion(request, base, counter=5))
    require(status == 200, "carol signs in with counter 5", status)
    refusal("a counter equal to the stored one (5) is refused", lambda r: carol.device.assertion(r, base, counter=5),
            audit=("mfa.passkey_counter_regressed", None))
    flagged = carol.passkeys()[0]
    check(flagged["flagged"] is True and "flagged_at" in flagged, "the regressed passkey shows flagged: true", flagged)
    refusal("the flagged passkey is refused with a correct later counter (9)", lambda r: carol.device.assertion(r, base, counter=9))

    # --- A disabled account's passkey signs in no more.
    if args.operator and args.operator_password:
        dave = Person(base, "dave")
        dave.register_passkey()
        ceremony, request = sign_in_options(base)
        status, _ = sign_in(base, ceremony, dave.device.assertion(request, base))
        require(status == 200, "dave signs in with his passkey while enabled", status)
        operator = Client(base)
        status, body = operator.call("POST", "/auth/login", {"username": args.operator, "password": args.operator_password})
        require(status == 200 and "access_token" in body, "the operator logs in", (status, body))
        operator_token = body["access_token"]
        status, body = operator.call("POST", "/admin/accounts/%s/disable" % dave.id, token=operator_token)
        require(status == 200, "the operator disables dave", (status, body))
        refusal("a disabled account's passkey is refused", lambda r: dave.device.assertion(r, base), audit=("login.passkey", "account_disabled"))
        status, body = operator.call("GET", "/admin/audit?limit=1000", token=operator_token)
        require(status == 200, "the operator reads the audit log", (status, body))
        events = body["events"]
        for address, (action, reason), message in audited:
            found = [e for e in events if e.get("source_address") == address and e["action"] == action]
            check(found and (reason is None or any(e["details"].get("reason") == reason for e in found)),
                  "audited as %s%s: %s" % (action, " " + reason if reason else "", message), [(e["action"], e["details"]) for e in events
                                                                                                if e.get("source_address") == address])
    else:
        check(False, "the disabled-account check needs OPERATOR_USERNAME OPERATOR_PASSWORD")

    # --- Exactly once: 20 concurrent sign-ins with one ceremony and one assertion.
    ceremony, request = sign_in_options(base)
    assertion = alice.device.assertion(request, base)
    clients = [Client(base) for _ in range(20)]
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def attempt(index):
        barrier.wait()
        try:
            statuses[index] = clients[index].call("POST", "/auth/passkeys/login", {"ceremony": ceremony, "credential": assertion})[0]
        except Exception as error:  # a dropped connection counts as a failure of the check, not of the script
            statuses[index] = repr(error)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(statuses.count(200) == 1 and all(s == 200 or (isinstance(s, int) and refused(s)) for s in statuses),
          "20 concurrent sign-ins with one ceremony: exactly one 200, the rest 4xx", sorted(statuses, key=str))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print("STOPPED:", error, file=sys.stderr)
    print(json.dumps({"checks": len(PASSED) + len(FAILED), "passed": PASSED, "failed": FAILED}, indent=1))
    sys.exit(1 if FAILED else 0)
