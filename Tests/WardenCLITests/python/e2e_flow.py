"""End-to-end run against two live `warden serve` nodes that share PostgreSQL and Redis.

  e2e_flow.py <ca.pem> <url-of-node-1> <url-of-node-2> <admin-username> <admin-password>

TLS 1.3 is accepted and TLS 1.2 refused; an account registers (by the admin), logs in, enrols TOTP (the
secret read back out of the otpauth URI, as a phone would), logs in with password + TOTP, refreshes
(rotation, and reuse refused), and logs out everywhere; a session revoked through node 1 is refused by
node 2 at once, and so are a disabled account and a withdrawn role. The last line is a JSON object listing
every secret sent or received (`secrets`), for the test to look for in the logs. Exits non-zero with a message at the first failure. Uses only the standard library and
pyotp (an independent TOTP implementation).
"""
import json
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pyotp

CA, NODE1, NODE2, ADMIN, ADMIN_PASSWORD = sys.argv[1:6]


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def context(maximum=None):
    ctx = ssl.create_default_context(cafile=CA)
    if maximum:
        ctx.maximum_version = maximum
    return ctx


# Every secret sent or received, printed at the end for the test to look for in the servers' logs.
SECRET_FIELDS = {"password", "current_password", "new_password", "code", "mfa_token", "access_token", "refresh_token",
                 "challenge", "device_token", "secret", "otpauth_uri", "codes"}
secrets = {ADMIN_PASSWORD}


def harvest(value, key=None):
    if isinstance(value, dict):
        for name, element in value.items():
            harvest(element, name)
    elif isinstance(value, list):
        for element in value:
            harvest(element, key)
    elif isinstance(value, str) and key in SECRET_FIELDS and value:
        secrets.add(value)
        if key == "codes":
            secrets.add(value.replace("-", ""))  # a backup code typed without its dashes
        if value.count(".") == 2 and value.startswith("eyJ"):
            secrets.add(value.rsplit(".", 1)[1])  # a JWT's signature alone


def call(base, method, path, body=None, token=None):
    harvest(body)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    request.add_header("User-Agent", "e2e-flow/1")
    try:
        with urllib.request.urlopen(request, context=context(), timeout=30) as response:
            raw = response.read()
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        status, headers = error.code, dict(error.headers)
    answer = json.loads(raw) if raw else {}
    harvest(answer)
    return status, headers, answer


# TLS: 1.3 accepted, 1.2 refused.
host, port = urllib.parse.urlparse(NODE1).hostname, urllib.parse.urlparse(NODE1).port
with socket.create_connection((host, port), timeout=10) as raw:
    with context().wrap_socket(raw, server_hostname="localhost") as tls:
        check(tls.version() == "TLSv1.3", f"negotiated {tls.version()}")
try:
    with socket.create_connection((host, port), timeout=10) as raw:
        with context(ssl.TLSVersion.TLSv1_2).wrap_socket(raw, server_hostname="localhost") as tls:
            check(False, f"a TLS 1.2 client connected ({tls.version()})")
except ssl.SSLError:
    pass

# The admin (created by the CLI) registers an account.
status, _, admin = call(NODE1, "POST", "/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
check(status == 200, f"admin login: {status} {admin}")
status, headers, created = call(NODE1, "POST", "/auth/register", {"username": "ada", "password": "correct horse battery staple"}, admin["access_token"])
check(status == 201, f"register: {status} {created}")
check(headers.get("Strict-Transport-Security", "").startswith("max-age="), "HSTS missing")

# Password login on node 1, TOTP enrolment.
status, _, tokens = call(NODE1, "POST", "/auth/login", {"username": "ada", "password": "correct horse battery staple"})
check(status == 200 and "access_token" in tokens, f"login: {status} {tokens}")
status, _, setup = call(NODE1, "POST", "/auth/mfa/setup", {"method": "totp", "name": "phone", "current_password": "correct horse battery staple"}, tokens["access_token"])
check(status == 201, f"mfa setup: {status} {setup}")
totp = pyotp.parse_uri(setup["otpauth_uri"])
status, _, confirmed = call(NODE2, "POST", "/auth/mfa/verify", {"factor_id": setup["factor_id"], "code": totp.now()}, tokens["access_token"])
check(status == 200 and confirmed.get("methods") == ["totp"], f"confirm on node 2: {status} {confirmed}")

# Password + TOTP on node 2: a challenge, then the next step's code (the current one was used).
status, _, challenge = call(NODE2, "POST", "/auth/login", {"username": "ada", "password": "correct horse battery staple"})
check(status == 200 and challenge.get("mfa_required") is True, f"challenge: {status} {challenge}")
code = totp.at(int(time.time()) + 30)
status, _, mfa = call(NODE2, "POST", "/auth/mfa/verify", {"challenge": challenge["challenge"], "method": "totp", "code": code})
check(status == 200 and mfa.get("authentication_level") == "mfa", f"challenge completion: {status} {mfa}")
status, _, replay = call(NODE1, "POST", "/auth/mfa/verify", {"challenge": challenge["challenge"], "method": "totp", "code": code})
check(status == 401, f"replayed challenge/code accepted on the other node: {status} {replay}")

# Backup codes, with the fresh MFA-level session (used below for further logins).
status, _, backup = call(NODE2, "POST", "/auth/mfa/backup-codes", token=mfa["access_token"])
check(status == 201 and len(backup["codes"]) == 10, f"backup codes: {status} {backup}")
codes = backup["codes"]

# Refresh rotates; the used refresh token is refused on either node afterwards, and its reuse ends the session.
status, _, refreshed = call(NODE1, "POST", "/auth/refresh", {"refresh_token": mfa["refresh_token"]})
check(status == 200 and refreshed["refresh_token"] != mfa["refresh_token"], f"refresh: {status} {refreshed}")
status, _, reused = call(NODE2, "POST", "/auth/refresh", {"refresh_token": mfa["refresh_token"]})
check(status == 401 and reused["error"]["code"] == "refresh_token_reused", f"reuse: {status} {reused}")
status, _, _ = call(NODE1, "GET", "/auth/sessions", token=refreshed["access_token"])
check(status == 401, f"the reused family's session still works: {status}")

# A session revoked through node 1 is refused by node 2 at once.
status, _, fresh = call(NODE1, "POST", "/auth/login", {"username": "ada", "password": "correct horse battery staple", "mfa_token": codes[0], "mfa_method": "backup_code"})
check(status == 200, f"single-call MFA login: {status} {fresh}")
status, _, _ = call(NODE2, "GET", "/auth/sessions", token=fresh["access_token"])
check(status == 200, f"node 2 does not know the session: {status}")
status, _, _ = call(NODE1, "POST", "/auth/logout", token=fresh["access_token"])
check(status == 204, f"logout: {status}")
status, _, _ = call(NODE2, "GET", "/auth/sessions", token=fresh["access_token"])
check(status == 401, f"node 2 accepted a session revoked on node 1: {status}")

# Logout everywhere.
status, _, again = call(NODE2, "POST", "/auth/login", {"username": "ada", "password": "correct horse battery staple", "mfa_token": codes[1], "mfa_method": "backup_code"})
check(status == 200, f"login again: {status} {again}")
status, _, other = call(NODE1, "POST", "/auth/login", {"username": "ada", "password": "correct horse battery staple", "mfa_token": codes[1], "mfa_method": "backup_code"})
check(status == 401, f"a backup code was accepted twice across nodes: {status} {other}")
status, _, all_out = call(NODE1, "POST", "/auth/logout-all", token=again["access_token"])
check(status == 200 and all_out["revoked"] >= 1, f"logout-all: {status} {all_out}")
for node in (NODE1, NODE2):
    status, _, _ = call(node, "GET", "/auth/sessions", token=again["access_token"])
    check(status == 401, f"a session survived logout-all on {node}: {status}")

# A password typed into the username field: refused like any failed login (the test then checks that the
# audit log holds only its tag).
status, _, refused = call(NODE2, "POST", "/auth/login", {"username": ADMIN_PASSWORD, "password": "not the admin password"})
check(status == 401 and refused["error"]["code"] == "invalid_credentials", f"unknown user: {status} {refused}")

# Two nodes, one truth: a disabled account and a withdrawn role are refused by the other node at its
# very next request (the account's status is written through to Redis, where every node's token check
# reads it; roles are read from the database by the routes that need them).
status, _, bea = call(NODE1, "POST", "/auth/register", {"username": "bea", "password": "correct horse battery staple"}, admin["access_token"])
check(status == 201 and bea.get("id"), f"register bea: {status} {bea}")
status, _, granted = call(NODE1, "POST", f"/admin/accounts/{bea['id']}/roles", {"role": "account_admin"}, admin["access_token"])
check(status == 200 and "account_admin" in granted["roles"], f"grant: {status} {granted}")
status, _, bea_tokens = call(NODE2, "POST", "/auth/login", {"username": "bea", "password": "correct horse battery staple"})
check(status == 200, f"bea login: {status} {bea_tokens}")
status, _, _ = call(NODE2, "GET", f"/admin/accounts/{created['id']}", token=bea_tokens["access_token"])
check(status == 200, f"bea as account_admin on node 2: {status}")
status, _, _ = call(NODE1, "DELETE", f"/admin/accounts/{bea['id']}/roles/account_admin", token=admin["access_token"])
check(status == 204, f"role withdrawn on node 1: {status}")
status, _, _ = call(NODE2, "GET", f"/admin/accounts/{created['id']}", token=bea_tokens["access_token"])
check(status == 403, f"a withdrawn role still worked on node 2: {status}")
status, _, _ = call(NODE2, "GET", "/auth/sessions", token=bea_tokens["access_token"])
check(status == 200, f"bea's own sessions on node 2: {status}")
status, _, disabled = call(NODE1, "POST", f"/admin/accounts/{bea['id']}/disable", token=admin["access_token"])
check(status == 200, f"disable on node 1: {status} {disabled}")
for node in (NODE2, NODE1):
    status, _, _ = call(node, "GET", "/auth/sessions", token=bea_tokens["access_token"])
    check(status == 401, f"a disabled account's session still worked on {node}: {status}")
status, _, _ = call(NODE2, "POST", "/auth/login", {"username": "bea", "password": "correct horse battery staple"})
check(status == 401, f"a disabled account logged in on node 2: {status}")

# Readiness reports both backing services.
status, _, ready = call(NODE2, "GET", "/health/ready")
check(status == 200 and ready["checks"].get("redis") == "up" and ready["checks"].get("database") == "up", f"ready: {status} {ready}")
print("e2e flow passed")
print(json.dumps({"secrets": sorted(secrets)}))
