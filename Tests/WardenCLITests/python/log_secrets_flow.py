"""A whole flow against one `warden serve`, keeping every secret it sends or receives.

  log_secrets_flow.py <ca.pem> <url> <admin-username> <admin-password>

Registers an account, logs in with passwords right and wrong, enrols TOTP (the secret read out of the
otpauth URI; codes computed here with pyotp), answers a challenge with a wrong code and then a right one,
makes backup codes, changes the password, logs in with a backup code, refreshes (and reuses the old refresh
token), seals and opens a field with a known plaintext, and logs out everywhere. Some requests carry a W3C
`traceparent`.

Prints one JSON object on its last line: `secrets` (every secret the flow knows, as it would appear in
text) and `traced` (request id and trace id of each request sent with a `traceparent`). The test then
reads the server's log for them. Exits non-zero with a message at the first failure.
"""
import base64
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import pyotp

CA, BASE, ADMIN, ADMIN_PASSWORD = sys.argv[1:5]
secrets = [ADMIN_PASSWORD]
traced = []


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def keep(*values):
    for value in values:
        if value:
            secrets.append(value)


def keep_token(token):
    """A JWT, and its signature on its own (a log line might hold a cut-off token)."""
    keep(token)
    if token and token.count(".") == 2:
        keep(token.rsplit(".", 1)[1])


def call(method, path, body=None, token=None, trace=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if trace:
        request.add_header("traceparent", f"00-{trace}-00f067aa0ba902b7-01")
    request.add_header("User-Agent", "log-secrets/1")
    context = ssl.create_default_context(cafile=CA)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    if trace:
        traced.append({"request_id": headers.get("X-Request-ID"), "trace_id": trace})
    return status, json.loads(raw) if raw else {}


ADA_PASSWORD = "tr0ub4dor and three more words"
NEW_PASSWORD = "a completely different sentence 42"
WRONG_PASSWORDS = ["wrong password number one!", "Tr0ub4dor&3-but-not-quite"]
keep(ADA_PASSWORD, NEW_PASSWORD, *WRONG_PASSWORDS)

status, admin = call("POST", "/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
check(status == 200, f"admin login: {status} {admin}")
keep_token(admin["access_token"]), keep_token(admin["refresh_token"]), keep(admin.get("device_token"))
status, created = call("POST", "/auth/register", {"username": "ada", "password": ADA_PASSWORD}, admin["access_token"],
                       trace="4bf92f3577b34da6a3ce929d0e0e4736")
check(status == 201, f"register: {status} {created}")

# Failed logins: wrong passwords, an unknown user, and a password typed as a username.
for wrong in WRONG_PASSWORDS:
    status, refused = call("POST", "/auth/login", {"username": "ada", "password": wrong})
    check(status == 401, f"a wrong password: {status} {refused}")
status, refused = call("POST", "/auth/login", {"username": ADA_PASSWORD, "password": WRONG_PASSWORDS[0]})
check(status == 401, f"a password as a username: {status} {refused}")

status, tokens = call("POST", "/auth/login", {"username": "ada", "password": ADA_PASSWORD}, trace="0af7651916cd43dd8448eb211c80319c")
check(status == 200, f"login: {status} {tokens}")
keep_token(tokens["access_token"]), keep_token(tokens["refresh_token"]), keep(tokens.get("device_token"))

# TOTP: enrol, a wrong code, the right one.
status, setup = call("POST", "/auth/mfa/setup", {"method": "totp", "name": "phone", "current_password": ADA_PASSWORD}, tokens["access_token"])
check(status == 201, f"mfa setup: {status} {setup}")
keep(setup["secret"], setup["otpauth_uri"])
totp = pyotp.parse_uri(setup["otpauth_uri"])
wrong_code = totp.at(int(time.time()) - 3600)
keep(wrong_code)
status, refused = call("POST", "/auth/mfa/verify", {"factor_id": setup["factor_id"], "code": wrong_code}, tokens["access_token"])
check(status in (400, 401), f"a wrong enrolment code: {status} {refused}")
code = totp.now()
keep(code)
status, confirmed = call("POST", "/auth/mfa/verify", {"factor_id": setup["factor_id"], "code": code}, tokens["access_token"])
check(status == 200, f"confirm: {status} {confirmed}")

# Password + TOTP: a challenge, a wrong code, then the next step's code.
status, challenge = call("POST", "/auth/login", {"username": "ada", "password": ADA_PASSWORD})
check(status == 200 and challenge.get("mfa_required") is True, f"challenge: {status} {challenge}")
keep(challenge["challenge"])
status, refused = call("POST", "/auth/mfa/verify", {"challenge": challenge["challenge"], "method": "totp", "code": wrong_code})
check(status == 401, f"a wrong challenge code: {status} {refused}")
next_code = totp.at(int(time.time()) + 30)
keep(next_code)
status, mfa = call("POST", "/auth/mfa/verify", {"challenge": challenge["challenge"], "method": "totp", "code": next_code})
check(status == 200 and mfa.get("authentication_level") == "mfa", f"challenge completion: {status} {mfa}")
keep_token(mfa["access_token"]), keep_token(mfa["refresh_token"]), keep(mfa.get("device_token"))

# Backup codes, and a login with one.
status, backup = call("POST", "/auth/mfa/backup-codes", token=mfa["access_token"])
check(status == 201 and len(backup["codes"]) == 10, f"backup codes: {status} {backup}")
for value in backup["codes"]:
    keep(value, value.replace("-", ""))

# A password change with the fresh MFA-level session (it ends the other sessions); the new password from here on.
status, changed = call("POST", "/auth/password", {"current_password": ADA_PASSWORD, "new_password": NEW_PASSWORD}, mfa["access_token"])
check(status in (200, 204), f"password change: {status} {changed}")
for value in ("access_token", "refresh_token"):
    keep_token(changed.get(value))
status, fresh = call("POST", "/auth/login", {"username": "ada", "password": NEW_PASSWORD, "mfa_token": backup["codes"][0], "mfa_method": "backup_code",
                                             "device_token": tokens.get("device_token")})
check(status == 200, f"backup-code login: {status} {fresh}")
keep_token(fresh["access_token"]), keep_token(fresh["refresh_token"]), keep(fresh.get("device_token"))
status, refused = call("POST", "/auth/login", {"username": "ada", "password": NEW_PASSWORD, "mfa_token": backup["codes"][0], "mfa_method": "backup_code"})
check(status == 401, f"a backup code twice: {status} {refused}")

# Refresh rotates; the used refresh token is refused.
status, refreshed = call("POST", "/auth/refresh", {"refresh_token": fresh["refresh_token"]}, trace="a3ce929d0e0e47364bf92f3577b34da6")
check(status == 200, f"refresh: {status} {refreshed}")
keep_token(refreshed["access_token"]), keep_token(refreshed["refresh_token"])
status, reused = call("POST", "/auth/refresh", {"refresh_token": fresh["refresh_token"]})
check(status == 401, f"refresh reuse: {status} {reused}")

# Field encryption with a known plaintext (the admin holds crypto_client).
PLAINTEXT = "ada.lovelace@analytical-engine.example"
encoded = base64.b64encode(PLAINTEXT.encode()).decode()
keep(PLAINTEXT, encoded)
status, sealed = call("POST", "/v1/crypto/encrypt", {"context": "users/email/42", "plaintext": encoded}, admin["access_token"])
check(status == 200, f"encrypt: {status} {sealed}")
status, opened = call("POST", "/v1/crypto/decrypt", {"context": "users/email/42", "ciphertext": sealed["ciphertext"]}, admin["access_token"])
check(status == 200 and opened["plaintext"] == encoded, f"decrypt: {status} {opened}")
status, refused = call("POST", "/v1/crypto/decrypt", {"context": "users/email/43", "ciphertext": sealed["ciphertext"]}, admin["access_token"])
check(status >= 400, f"decrypt under another context: {status} {refused}")

# Logout everywhere.
status, again = call("POST", "/auth/login", {"username": "ada", "password": NEW_PASSWORD, "mfa_token": backup["codes"][1], "mfa_method": "backup_code"})
check(status == 200, f"login with the new password: {status} {again}")
keep_token(again["access_token"]), keep_token(again["refresh_token"]), keep(again.get("device_token"))
status, all_out = call("POST", "/auth/logout-all", token=again["access_token"], trace="5b8efff798038103d269b633813fc60c")
check(status == 200, f"logout-all: {status} {all_out}")
status, _ = call("GET", "/auth/sessions", token=again["access_token"])
check(status == 401, f"a session survived logout-all: {status}")

print(json.dumps({"secrets": sorted(set(secrets)), "traced": traced}))
