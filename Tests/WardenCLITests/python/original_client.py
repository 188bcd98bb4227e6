"""A client of the original system's API, run unchanged against a live `warden serve`.

  original_client.py <ca.pem> <url> <username> <password> <original|warden>

Written only from the shapes in ../shared/seed/original-implementation.md (section 1.5: the endpoint
table): login with `{username, password, mfa_token?, mfa_method?}`, `/auth/sessions` with `session_id`,
`device_info`, `is_current` and `total_sessions`, `/security/status` with `security_rating`,
`encryption.current_version`, `session_management`, `mfa.available_methods`, `mfa.user_status`,
`tls_enabled`, MFA setup with `{method:"totp"}` and verify with `{method, token}`, logout, logout-all,
refresh and session revocation. The last argument says which of Warden's modes the server runs in
(`WARDEN_API_COMPATIBILITY`): `original` expects the original's forms where they conflict with Warden's
(errors as `{"error":"<message>"}`, 403 for an MFA-required login, bodies on logout and revocation);
`warden` expects Warden's there. Where Warden deliberately differs (docs/migration-api.md) the client
checks the difference, so it is pinned too: MFA setup needs the current password, refresh tokens rotate,
TOTP codes are single use, backup codes come from POST, never from GET.

The account must exist and have no MFA. Exits non-zero with a message at the first failure. Uses only
the standard library and pyotp.
"""
import base64
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import pyotp

CA, BASE, USERNAME, PASSWORD, MODE = sys.argv[1:6]
ORIGINAL = MODE == "original"
AGENT = "original-client/1.0 (python urllib)"
CONTEXT = ssl.create_default_context(cafile=CA)


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    request.add_header("User-Agent", AGENT)
    try:
        with urllib.request.urlopen(request, context=CONTEXT, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else {}


def error_message(status, body, expected_status, warden_code):
    """The error's message, checking the body's form for the mode: the original's `{"error": "<message>"}`
    or Warden's `{"error": {code, message}}`; either way with the expected status and code."""
    check(status == expected_status, f"expected {expected_status}, got {status} {body}")
    if ORIGINAL:
        check(isinstance(body.get("error"), str) and body["error"], f"original error form: {body}")
        check(body.get("code") == warden_code, f"code beside the original's error: {body}")
        return body["error"]
    check(isinstance(body.get("error"), dict) and body["error"].get("code") == warden_code, f"Warden error form: {body}")
    check(isinstance(body["error"].get("message"), str), f"Warden error message: {body}")
    return body["error"]["message"]


def login(extra=None):
    status, body = call("POST", "/auth/login", {"username": USERNAME, "password": PASSWORD, **(extra or {})})
    check(status == 200, f"login {extra}: {status} {body}")
    check(isinstance(body.get("access_token"), str) and isinstance(body.get("refresh_token"), str), f"tokens: {body}")
    check(body.get("token_type") == "Bearer", f"token_type: {body}")
    check(isinstance(body.get("expires_in"), int) and body["expires_in"] > 0, f"expires_in: {body}")
    check(isinstance(body.get("session_id"), str) and body["session_id"], f"session_id: {body}")
    check(isinstance(body.get("mfa_verified"), bool), f"mfa_verified: {body}")
    return body


def sessions(token):
    status, body = call("GET", "/auth/sessions", token=token)
    check(status == 200, f"sessions: {status} {body}")
    listed = body.get("sessions")
    check(isinstance(listed, list) and body.get("total_sessions") == len(listed), f"sessions/total_sessions: {body}")
    for session in listed:
        for field in ("session_id", "created_at", "last_activity", "device_info", "is_current"):
            check(field in session, f"session without {field}: {session}")
        info = session["device_info"]
        check(isinstance(info.get("device_fingerprint"), str) and info["device_fingerprint"], f"device_fingerprint: {session}")
        check(isinstance(info.get("ip_address"), str) and info["ip_address"], f"ip_address: {session}")
        check(info.get("user_agent") == AGENT[:100], f"user_agent: {session}")
        check(isinstance(session["is_current"], bool), f"is_current: {session}")
    check(sum(1 for s in listed if s["is_current"]) == 1, f"exactly one current session: {listed}")
    return listed


def refused(token, what):
    status, body = call("GET", "/auth/sessions", token=token)
    error_message(status, body, 401, "invalid_token")


# --- Errors leak nothing: a wrong password and an unknown username look the same. --------------------------
status, wrong = call("POST", "/auth/login", {"username": USERNAME, "password": PASSWORD + "x"})
wrong_message = error_message(status, wrong, 401, "invalid_credentials")
status, unknown = call("POST", "/auth/login", {"username": "no-such-user-" + USERNAME, "password": PASSWORD})
check(error_message(status, unknown, 401, "invalid_credentials") == wrong_message, f"unknown user told apart: {unknown} vs {wrong}")
check(USERNAME not in wrong_message and PASSWORD not in wrong_message, f"the message names the input: {wrong_message}")
status, missing = call("POST", "/auth/login", {"username": USERNAME})
error_message(status, missing, 400, "invalid_request")
status, anonymous = call("GET", "/auth/sessions")
error_message(status, anonymous, 401, "invalid_token")

# --- Login without MFA. ----------------------------------------------------------------------------------------
first = login()
check(first["mfa_verified"] is False, f"password-only login claims MFA: {first}")

# --- /security/status with the original's fields. ------------------------------------------------------------
status, security = call("GET", "/security/status", token=first["access_token"])
check(status == 200, f"status: {status} {security}")
check(isinstance(security.get("security_rating"), str) and security["security_rating"], f"security_rating: {security}")
encryption = security.get("encryption", {})
check(encryption.get("current_version") is not None and encryption.get("algorithm") == "AES-256-GCM", f"encryption: {encryption}")
check(encryption.get("rotation_needed") is False, f"a fresh keyring needs rotation: {encryption}")
check(security.get("tls_enabled") is True, f"tls_enabled: {security}")
check(isinstance(security.get("cors_enabled"), bool), f"cors_enabled: {security}")
check(security.get("session_management", {}).get("status") == "healthy", f"session_management: {security}")
mfa = security.get("mfa", {})
check("totp" in mfa.get("available_methods", []), f"mfa.available_methods: {mfa}")
check(isinstance(mfa.get("user_status"), dict) and mfa["user_status"].get("totp_enabled") is False, f"mfa.user_status: {mfa}")
status, anonymous_status = call("GET", "/security/status")
check(status == 200 and anonymous_status["mfa"]["user_status"] == "Not authenticated", f"anonymous status: {status} {anonymous_status}")

# --- Sessions: listing, revoking another one, revoking one that is not ours. ------------------------------------
second = login()
listed = sessions(first["access_token"])
ids = {s["session_id"] for s in listed}
check({first["session_id"], second["session_id"]} <= ids, f"both sessions listed: {ids}")
check(next(s for s in listed if s["is_current"])["session_id"] == first["session_id"], f"is_current names the caller's session: {listed}")
status, revoked = call("DELETE", "/auth/sessions/" + second["session_id"], token=first["access_token"])
if ORIGINAL:
    check(status == 200 and revoked.get("message") == "Session revoked successfully" and revoked.get("session_id") == second["session_id"],
          f"revoke: {status} {revoked}")
else:
    check(status == 204, f"revoke: {status} {revoked}")
refused(second["access_token"], "a revoked session")
check(second["session_id"] not in {s["session_id"] for s in sessions(first["access_token"])}, "a revoked session is still listed")
status, missing_session = call("DELETE", "/auth/sessions/sess_not-a-session", token=first["access_token"])
error_message(status, missing_session, 404, "not_found")

# --- Refresh: `{refresh_token}` → `{access_token, token_type, expires_in}`; the token rotates. ------------------
status, refreshed = call("POST", "/auth/refresh", {"refresh_token": first["refresh_token"]})
check(status == 200 and refreshed.get("token_type") == "Bearer" and isinstance(refreshed.get("expires_in"), int), f"refresh: {status} {refreshed}")
check(refreshed["access_token"] != first["access_token"], "refresh returned the same access token")
check(refreshed.get("refresh_token") and refreshed["refresh_token"] != first["refresh_token"], f"refresh token not rotated: {refreshed}")
sessions(refreshed["access_token"])
status, empty = call("POST", "/auth/refresh", {})
error_message(status, empty, 400, "invalid_request")
# The original let a refresh token be used again; Warden takes a used one coming back as theft and ends
# every session of the account.
third = login()
status, once = call("POST", "/auth/refresh", {"refresh_token": third["refresh_token"]})
check(status == 200, f"refresh: {status} {once}")
status, reused = call("POST", "/auth/refresh", {"refresh_token": third["refresh_token"]})
error_message(status, reused, 401, "refresh_token_reused")
refused(once["access_token"], "the session of a reused refresh token")
refused(refreshed["access_token"], "another session of the account after a refresh token's reuse")

# --- Logout, then logout-all. ---------------------------------------------------------------------------------------
fourth = login()
status, out = call("POST", "/auth/logout", token=fourth["access_token"])
if ORIGINAL:
    check(status == 200 and out == {"message": "Logged out successfully", "session_revoked": True}, f"logout: {status} {out}")
else:
    check(status == 204, f"logout: {status} {out}")
refused(fourth["access_token"], "a logged-out session")
spare = login()
fifth = login()
live = len(sessions(fifth["access_token"]))
check(live >= 2, f"sessions before logout-all: {live}")
status, everywhere = call("POST", "/auth/logout-all", token=fifth["access_token"])
check(status == 200 and everywhere.get("sessions_revoked") == live and everywhere.get("message") == f"Logged out {live} sessions",
      f"logout-all: {status} {everywhere}")
for token in (fifth["access_token"], spare["access_token"]):
    refused(token, "a session after logout-all")

# --- MFA setup (totp) and verify with `{method, token}`. -----------------------------------------------------------
sixth = login()
token = sixth["access_token"]
status, refused_setup = call("POST", "/auth/mfa/setup", {"method": "totp"}, token=token)
error_message(status, refused_setup, 403, "reauthentication_required")  # Warden: the password is needed too
status, setup = call("POST", "/auth/mfa/setup", {"method": "totp", "current_password": PASSWORD}, token=token)
check(status in (200, 201), f"mfa setup: {status} {setup}")
check(setup.get("method") == "totp" and setup.get("setup_complete") is False, f"setup fields: {setup}")
check(base64.b64decode(setup.get("qr_code", "")).startswith(b"\x89PNG\r\n\x1a\n"), "qr_code is not a base64 PNG")
check("backup_codes" not in setup, f"backup codes at setup: {setup}")
totp = pyotp.TOTP(setup["secret"])
check(pyotp.parse_uri(setup["otpauth_uri"]).secret == setup["secret"], "the URI's secret differs")
wrong_code = "000000" if totp.now() != "000000" else "111111"
status, bad = call("POST", "/auth/mfa/verify", {"method": "totp", "token": wrong_code}, token=token)
error_message(status, bad, 401, "invalid_code")
status, verified = call("POST", "/auth/mfa/verify", {"method": "totp", "token": totp.now()}, token=token)
check(status == 200 and verified.get("verified") is True and verified.get("method") == "totp", f"verify: {status} {verified}")
status, security = call("GET", "/security/status", token=token)
user_status = security["mfa"]["user_status"]
check(user_status["totp_enabled"] is True and "totp" in user_status["methods_available"], f"user_status after verify: {user_status}")

# --- Login without `mfa_token` now that MFA is on. -------------------------------------------------------------------
status, required = call("POST", "/auth/login", {"username": USERNAME, "password": PASSWORD})
if ORIGINAL:
    check(status == 403 and required.get("error") == "MFA verification required" and required.get("mfa_required") is True
          and "totp" in required.get("available_methods", []) and "access_token" not in required, f"MFA required: {status} {required}")
else:
    check(status == 200 and required.get("mfa_required") is True and required.get("challenge") and "totp" in required.get("methods", [])
          and "access_token" not in required, f"MFA challenge: {status} {required}")
status, bad = call("POST", "/auth/login", {"username": USERNAME, "password": PASSWORD, "mfa_token": wrong_code, "mfa_method": "totp"})
error_message(status, bad, 401, "invalid_code")

# --- Login with `mfa_token`: the next step's code (Warden accepts each TOTP step once; verify used this one). --------
mfa_login = login({"mfa_token": totp.at(int(time.time()) + 30), "mfa_method": "totp"})
check(mfa_login["mfa_verified"] is True, f"MFA login: {mfa_login}")
# Backup codes: GET only counts them (the original generated new ones on every GET); POST makes them.
status, count = call("GET", "/auth/mfa/backup-codes", token=mfa_login["access_token"])
check(status == 200 and count.get("remaining") == 0 and "backup_codes" not in count, f"GET backup-codes: {status} {count}")
status, codes = call("POST", "/auth/mfa/backup-codes", token=mfa_login["access_token"])
check(status == 201 and len(codes.get("codes", [])) == 10, f"POST backup-codes: {status} {codes}")
backup = login({"mfa_token": codes["codes"][0], "mfa_method": "backup_codes"})
check(backup["mfa_verified"] is True, f"backup-code login: {backup}")
status, again = call("POST", "/auth/login", {"username": USERNAME, "password": PASSWORD, "mfa_token": codes["codes"][0], "mfa_method": "backup_codes"})
error_message(status, again, 401, "invalid_code")

# --- MFA disable: the original's POST `{method, password}`. A password no longer suffices once MFA is on (the ----
# original never checked it); a session that completed MFA minutes ago does.
status, weak = call("POST", "/auth/mfa/disable", {"method": "totp", "password": PASSWORD}, token=token)
error_message(status, weak, 403, "reauthentication_required")
status, disabled = call("POST", "/auth/mfa/disable", {"method": "totp", "password": PASSWORD}, token=backup["access_token"])
check(status == 200 and isinstance(disabled.get("message"), str), f"disable: {status} {disabled}")
after = login()
check(after["mfa_verified"] is False, f"login after disable: {after}")

print(f"original client passed ({MODE} mode)")
