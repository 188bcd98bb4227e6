#!/usr/bin/env python3
"""Writes Warden's OpenAPI 3.1 document: docs/openapi.json, and the copy the server serves
(Sources/WardenHTTP/OpenAPIDocument.swift). Run after changing a route; a test checks both agree.

  python3 scripts/openapi.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def string(max_length=None, **extra):
    schema = {"type": "string", **extra}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def obj(properties, required=()):
    """An object; properties not required may also be null (the server reads null as absent)."""
    props = {}
    for name, schema in properties.items():
        if name not in required and isinstance(schema.get("type"), str):
            schema = {**schema, "type": [schema["type"], "null"]}
        props[name] = schema
    return {"type": "object", "properties": props, "required": list(required)}


# Warden's error, or with WARDEN_API_COMPATIBILITY=original the original system's: `error` is the message
# itself and `code` sits beside it (docs/migration-api.md).
ERROR = obj({"error": {"oneOf": [obj({"code": string(), "message": string()}, ["code", "message"]),
                                 string(description="WARDEN_API_COMPATIBILITY=original: the message")]},
             "code": string(description="WARDEN_API_COMPATIBILITY=original: the error's code"),
             "request_id": string(), "retry_after": {"type": "integer"}},
            ["error", "request_id"])
# A password alone; a password and a second factor; a user-verified passkey alone (docs/sessions.md).
LEVELS = ["password", "mfa", "passkey"]
TOKENS = obj({
    "device_token": string(description="exempts this device from the password lock at the next login"),
    "access_token": string(), "refresh_token": string(), "token_type": string(enum=["Bearer"]), "expires_in": {"type": "integer"},
    "refresh_expires_in": {"type": "integer"}, "session_id": string(), "authentication_level": string(enum=LEVELS),
    "mfa_verified": {"type": "boolean", "description": "the original system's name: authentication_level is mfa or passkey"},
}, ["access_token", "refresh_token", "token_type", "expires_in", "session_id", "authentication_level", "mfa_verified"])
CHALLENGE = obj({"mfa_required": {"type": "boolean"}, "challenge": string(), "methods": {"type": "array", "items": string()},
                 "expires_at": string(format="date-time")}, ["mfa_required", "challenge", "methods", "expires_at"])
ANY_OBJECT = {"type": "object"}
METHODS = ["totp", "sms", "email", "backup_code", "backup_codes"]
# WARDEN_API_COMPATIBILITY=original: an MFA-required login as the original answered it (with the challenge too).
MFA_REQUIRED = obj({"error": string(enum=["MFA verification required"]), "mfa_required": {"type": "boolean"},
                    "available_methods": {"type": "array", "items": string()}, "challenge": string(), "methods": {"type": "array", "items": string()},
                    "expires_at": string(format="date-time"), "request_id": string()}, ["error", "mfa_required", "available_methods"])
SESSION = obj({
    "id": string(), "created_at": string(format="date-time"), "last_activity": string(format="date-time"), "expires_at": string(format="date-time"),
    "authentication_level": string(enum=LEVELS),
    "device": obj({"user_agent": string(), "address": string(), "fingerprint": string()}, ["user_agent", "address", "fingerprint"]),
    "current": {"type": "boolean"},
    "session_id": string(description="the original system's name for id"), "is_current": {"type": "boolean", "description": "the original's name for current"},
    "device_info": obj({"user_agent": string(100), "ip_address": string(), "device_fingerprint": string()}, ["user_agent", "ip_address", "device_fingerprint"]),
}, ["id", "created_at", "last_activity", "expires_at", "authentication_level", "device", "current", "session_id", "is_current", "device_info"])
TOTP_SETUP = obj({"factor_id": string(format="uuid"), "secret": string(description="base32, shown once"), "otpauth_uri": string(),
                  "qr_png": string(description="standard base64 PNG"), "qr_svg": string(), "expires_at": string(format="date-time"),
                  "method": string(enum=["totp"]), "qr_code": string(description="the original system's name for qr_png"),
                  "setup_complete": {"type": "boolean", "description": "false until POST /auth/mfa/verify confirms the enrolment"}},
                 ["factor_id", "secret", "otpauth_uri", "qr_png", "qr_svg", "expires_at", "method", "qr_code", "setup_complete"])
CODE_SENT = obj({"factor_id": string(format="uuid"), "sent": {"type": "boolean"}}, ["factor_id", "sent"])
FIELD_ITEM = obj({"context": string(1000, minLength=1), "plaintext": string(description="standard base64")}, ["context", "plaintext"])
REAUTH = obj({"current_password": string(1024), "password": string(1024, description="the original system's name for current_password"),
              "code": string(64), "method": string(enum=METHODS)})
SETUP_PROOF = {"current_password": string(1024), "current_code": string(64),
               "current_method": string(enum=["totp", "sms", "email", "backup_code"])}
USERNAME = string(64, minLength=1, description="after NFKC: letters of one script, digits, space and . _ - @ + (docs/access.md)")
PASSWORD = string(256, minLength=12, description="12-256 characters by default (WARDEN_PASSWORD_MIN_LENGTH), not a common password")
CIPHER_ITEM = obj({"context": string(1000, minLength=1), "ciphertext": string()}, ["context", "ciphertext"])

# Passkeys (WebAuthn). Options are WebAuthn's JSON forms (byte fields as unpadded base64url), ready for
# PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON; a credential is what
# PublicKeyCredential.toJSON() returns (Warden parses it itself: docs/formats.md).
B64URL = string(description="unpadded base64url")
DESCRIPTORS = {"type": "array", "items": obj({"type": string(enum=["public-key"]), "id": B64URL,
                                              "transports": {"type": "array", "items": string()}}, ["type", "id"])}
CREATION_OPTIONS = obj({
    "rp": obj({"id": string(), "name": string()}, ["id", "name"]),
    "user": obj({"id": B64URL, "name": string(), "displayName": string()}, ["id", "name", "displayName"]),
    "challenge": B64URL,
    "pubKeyCredParams": {"type": "array", "items": obj({"type": string(enum=["public-key"]), "alg": {"type": "integer"}}, ["type", "alg"])},
    "timeout": {"type": "integer"}, "excludeCredentials": DESCRIPTORS,
    "authenticatorSelection": obj({"residentKey": string(), "requireResidentKey": {"type": "boolean"}, "userVerification": string()}),
    "attestation": string(enum=["none"]),
}, ["rp", "user", "challenge", "pubKeyCredParams"])
REQUEST_OPTIONS = obj({"challenge": B64URL, "timeout": {"type": "integer"}, "rpId": string(), "allowCredentials": DESCRIPTORS,
                       "userVerification": string(enum=["required", "preferred", "discouraged"])}, ["challenge", "rpId"])
CEREMONY = obj({"ceremony": string(description="single use, expires after 5 minutes; send it back with the credential"),
                "publicKey": CREATION_OPTIONS}, ["ceremony", "publicKey"])
# Only "an object" to the schema: Warden checks the credential itself, after the ceremony and any proof of
# identity, so a schema narrower than "object" would promise refusals (400) the server gives later, as 401.
REGISTRATION_CREDENTIAL = {"type": "object", "description": (
    "PublicKeyCredential.toJSON() of navigator.credentials.create(), at most 64 KiB: "
    "{id, rawId, type: public-key, response: {clientDataJSON, attestationObject, transports?}, authenticatorAttachment?, "
    "clientExtensionResults?}, byte fields unpadded base64url")}
ASSERTION_CREDENTIAL = {"type": "object", "description": (
    "PublicKeyCredential.toJSON() of navigator.credentials.get(), at most 64 KiB: "
    "{id, rawId, type: public-key, response: {clientDataJSON, authenticatorData, signature, userHandle}, authenticatorAttachment?, "
    "clientExtensionResults?}, byte fields unpadded base64url; userHandle is required for a passwordless sign-in")}
PASSKEY = obj({
    "id": string(format="uuid"), "name": string(), "credential_id": B64URL, "algorithm": {"type": "integer", "description": "COSE: -7 ES256, -8 EdDSA, -257 RS256"},
    "aaguid": string(description="hex"), "attestation_format": string(), "transports": {"type": "array", "items": string()},
    "backup_eligible": {"type": "boolean"}, "backed_up": {"type": "boolean"}, "sign_count": {"type": "integer"},
    "created_at": string(format="date-time"), "last_used_at": string(format="date-time"),
    "flagged": {"type": "boolean", "description": "its counter went backwards (a cloned authenticator?): it signs in no more"},
    "flagged_at": string(format="date-time"),
}, ["id", "name", "credential_id", "algorithm", "aaguid", "attestation_format", "transports", "backup_eligible", "backed_up", "sign_count",
    "created_at", "flagged"])


def response(description, schema=None):
    result = {"description": description}
    if schema is not None:
        result["content"] = {"application/json": {"schema": schema}}
    return result


def errors(*codes):
    names = {"423": "locked after repeated failures (see retry_after)", "405": "method not allowed (see Allow)", "415": "the body must be application/json", "400": "invalid request", "401": "not authenticated, or invalid credentials or code", "403": "not allowed",
             "404": "not found", "409": "conflict", "413": "body too large", "423": "MFA locked", "429": "rate limited",
             "502": "delivery failed", "503": "a backing service is unavailable (`unavailable`), or password hashing is at capacity (`busy`, with Retry-After)"}
    return {code: response(names[code], {"$ref": "#/components/schemas/Error"}) for code in codes}


def op(summary, responses, body=None, secured=True, tag=None, params=None, body_required=True):
    operation = {"summary": summary, "responses": responses}
    if tag:
        operation["tags"] = [tag]
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    operation["security"] = [{"bearer": []}] if secured else []
    if params:
        operation["parameters"] = params
    return operation


def path_param(name, schema=None):
    return {"name": name, "in": "path", "required": True, "schema": schema or string()}


COMMON = ("400", "413", "415", "429", "503")
AUTHED = ("401",) + COMMON
ACCOUNT_ID = [path_param("id", string(format="uuid"))]

ACCOUNT_CREATED = response("created", obj({"id": string(format="uuid"), "username": string(), "status": string(), "created_at": string(format="date-time"),
                                          "email": string()}, ["id", "username", "status", "created_at"]))
paths = {
    "/auth/register": {"post": op("Create an account (open, invite-only or admin-only, as configured)", {
        "201": response("created", obj({"id": string(), "username": string()}, ["id", "username"])), **errors("401", "403", "409", *COMMON)},
        obj({"username": USERNAME, "password": PASSWORD, "email": string(254), "phone": string(32), "invite_code": string(256)},
            ["username", "password"]), secured=False, tag="auth")},
    "/auth/login": {"post": op("Log in with a password; tokens, or an MFA challenge", {
        "200": response("tokens, or a challenge naming the MFA methods", {"oneOf": [TOKENS, CHALLENGE]}),
        "403": response("WARDEN_API_COMPATIBILITY=original only: MFA required (instead of the 200 challenge)", MFA_REQUIRED),
        **errors("401", "423", *COMMON)},
        obj({"username": string(256), "password": string(1024), "device_id": string(128), "device_token": string(128), "mfa_token": string(64),
             "mfa_method": string(enum=METHODS)}, ["username", "password"]), secured=False, tag="auth")},
    "/auth/refresh": {"post": op("Exchange a refresh token (it rotates; reuse revokes the session)", {
        "200": response("new tokens", TOKENS), **errors("401", *COMMON)}, obj({"refresh_token": string(4096)}, ["refresh_token"]),
        secured=False, tag="auth")},
    "/auth/password": {"post": op("Change the caller's password (current password required; other sessions end)", {
        "200": response("changed", obj({"changed": {"type": "boolean"}, "sessions_revoked": {"type": "integer"}}, ["changed", "sessions_revoked"])),
        **errors("403", *AUTHED)}, obj({"current_password": string(1024), "new_password": PASSWORD}, ["current_password", "new_password"]),
        tag="auth")},
    "/auth/logout": {"post": op("End this session", {
        "204": response("ended"),
        "200": response("ended (WARDEN_API_COMPATIBILITY=original only)", obj({"message": string(), "session_revoked": {"type": "boolean"}}, ["message", "session_revoked"])),
        **errors(*AUTHED)}, tag="auth")},
    "/auth/logout-all": {"post": op("End every session of the account", {
        "200": response("ended", obj({"revoked": {"type": "integer"}, "sessions_revoked": {"type": "integer"}, "message": string()},
                                     ["revoked", "sessions_revoked", "message"])), **errors(*AUTHED)}, tag="auth")},
    "/auth/mfa/setup": {"post": op("Start enrolling a second factor (the current password, or a current factor's code, required)", {
        "201": response("TOTP secret, URI and QR code; or a code sent", {"anyOf": [TOTP_SETUP, CODE_SENT]}), **errors("403", "423", "502", *AUTHED)},
        {"oneOf": [
            obj({"method": string(enum=["totp"]), "name": string(64), **SETUP_PROOF}, ["method"]),
            obj({"method": string(enum=["sms", "email"]), "destination": string(254), "name": string(64), **SETUP_PROOF}, ["method", "destination"]),
        ]}, tag="mfa")},
    "/auth/mfa/verify": {"post": op("Confirm an enrolment (with a token) or complete a login challenge", {
        "200": response("confirmed, or tokens", {"anyOf": [
            obj({"confirmed": {"type": "boolean"}, "methods": {"type": "array", "items": string()}, "factor_id": string(format="uuid"),
                 "verified": {"type": "boolean"}, "method": string(enum=["totp", "sms", "email"])},
                ["confirmed", "methods", "factor_id", "verified", "method"]),
            TOKENS]}), **errors("404", "423", *AUTHED)},
        {"oneOf": [
            obj({"code": string(64), "factor_id": string(format="uuid")}, ["code", "factor_id"]),
            obj({"code": string(64), "challenge": string(256), "method": string(enum=METHODS),
                 "device_id": string(128)}, ["code", "challenge", "method"]),
            obj({"method": string(enum=["totp", "sms", "email"]), "token": string(64, description="the original system's name for code")},
                ["method", "token"]),
        ]}, secured=False, tag="mfa")},
    "/auth/mfa/send": {"post": op("Send an SMS or email code for a login challenge", {
        "202": response("sent", obj({"sent": {"type": "boolean"}})), **errors("401", "423", "502", *COMMON)},
        obj({"challenge": string(256), "method": string(enum=["sms", "email"]), "device_id": string(128)}, ["challenge", "method"]),
        secured=False, tag="mfa")},
    "/auth/mfa/backup-codes": {
        "get": op("How many backup codes remain (never the codes)", {
            "200": response("count", obj({"remaining": {"type": "integer"}}, ["remaining"])), **errors(*AUTHED)}, tag="mfa"),
        "post": op("Generate a new set of backup codes (a current factor's code, or MFA within 5 minutes)", {
            "201": response("the codes, shown once", obj({"codes": {"type": "array", "items": string()}, "remaining": {"type": "integer"}})),
            **errors("403", "423", *AUTHED)}, REAUTH, tag="mfa", body_required=False),
    },
    "/auth/mfa/disable": {
        "delete": op("Turn MFA off (a current factor's code, or MFA within 5 minutes)", {"204": response("off"), **errors("403", "423", *AUTHED)},
                     REAUTH, tag="mfa", body_required=False),
        "post": op("Turn MFA off: the original system's method, same proof as DELETE", {
            "200": response("off", obj({"message": string(), "disabled": {"type": "boolean"}}, ["message", "disabled"])), **errors("403", "423", *AUTHED)},
            REAUTH, tag="mfa", body_required=False),
    },
    "/auth/passkeys/register/options": {"post": op("Start registering a passkey: a ceremony token and the creation options", {
        "200": response("ceremony", CEREMONY), **errors(*AUTHED)}, tag="passkeys")},
    "/auth/passkeys/register": {"post": op(
        "Finish registering a passkey (the current password, or a current factor's code, unless MFA within 5 minutes; other sessions end)", {
            "201": response("the passkey", PASSKEY), **errors("403", "423", *AUTHED)},
        obj({"ceremony": string(256, minLength=1), "credential": REGISTRATION_CREDENTIAL, "name": string(64, description="default Passkey"),
             "current_password": string(1024), "code": string(64), "method": string(enum=METHODS)}, ["ceremony", "credential"]), tag="passkeys")},
    "/auth/passkeys": {"get": op("The caller's passkeys", {
        "200": response("passkeys", obj({"passkeys": {"type": "array", "items": PASSKEY}}, ["passkeys"])), **errors(*AUTHED)}, tag="passkeys")},
    "/auth/passkeys/{id}": {
        "post": op("Rename one of the caller's passkeys", {"204": response("renamed"), **errors("404", *AUTHED)},
                   obj({"name": string(64, minLength=1)}, ["name"]), tag="passkeys", params=[path_param("id", string(format="uuid"))]),
        "delete": op("Remove one of the caller's passkeys (a current factor's code, or MFA within 5 minutes)", {
            "204": response("removed"), **errors("403", "404", "423", *AUTHED)}, REAUTH, tag="passkeys", body_required=False,
            params=[path_param("id", string(format="uuid"))]),
    },
    "/auth/passkeys/login/options": {"post": op("Start a passwordless sign-in: a ceremony token and the request options (user verification required)", {
        "200": response("ceremony", obj({"ceremony": string(), "publicKey": REQUEST_OPTIONS}, ["ceremony", "publicKey"])), **errors(*COMMON)},
        secured=False, tag="passkeys")},
    "/auth/passkeys/login": {"post": op("Sign in with a passkey alone (the ceremony is used up, whatever the outcome)", {
        "200": response("tokens (authentication_level passkey)", TOKENS), **errors("401", "423", *COMMON)},
        obj({"ceremony": string(256, minLength=1), "credential": ASSERTION_CREDENTIAL, "device_id": string(128)}, ["ceremony", "credential"]),
        secured=False, tag="passkeys")},
    "/auth/mfa/passkey/options": {"post": op("The request options for completing a login challenge with a passkey", {
        "200": response("options", obj({"publicKey": REQUEST_OPTIONS}, ["publicKey"])), **errors("401", *COMMON)},
        obj({"challenge": string(256, minLength=1), "device_id": string(128)}, ["challenge"]), secured=False, tag="mfa")},
    "/auth/mfa/passkey": {"post": op("Complete a login challenge with a passkey", {
        "200": response("tokens (authentication_level mfa)", TOKENS), **errors("401", "423", *COMMON)},
        obj({"challenge": string(256, minLength=1), "credential": ASSERTION_CREDENTIAL, "device_id": string(128)}, ["challenge", "credential"]),
        secured=False, tag="mfa")},
    "/auth/sessions": {"get": op("The caller's sessions", {
        "200": response("sessions", obj({"sessions": {"type": "array", "items": SESSION}, "total_sessions": {"type": "integer"}},
                                        ["sessions", "total_sessions"])), **errors(*AUTHED)}, tag="sessions")},
    "/auth/sessions/{id}": {"delete": op("End one of the caller's sessions", {
        "204": response("ended"),
        "200": response("ended (WARDEN_API_COMPATIBILITY=original only)", obj({"message": string(), "session_id": string()}, ["message", "session_id"])),
        **errors("404", *AUTHED)}, tag="sessions", params=[path_param("id")])},
    "/security/status": {"get": op("Live security facts and a rating computed from listed checks", {
        "200": response("status", obj({
            "rating": ANY_OBJECT, "checks": {"type": "array", "items": ANY_OBJECT}, "readiness": ANY_OBJECT, "tls": ANY_OBJECT,
            "mfa_methods_available": {"type": "array", "items": string()}, "generated_at": string(format="date-time"),
            "caller_mfa": ANY_OBJECT,
            "encryption": obj({"algorithm": string(), "primary_version": {"type": "integer"},
                               "current_version": {"type": "integer", "description": "the original system's name for primary_version"},
                               "rotation_needed": {"type": "boolean"}}, ["algorithm", "primary_version", "current_version", "rotation_needed"]),
            "security_rating": string(enum=["strong", "fair", "weak"], description="the original system's name for rating.value"),
            "tls_enabled": {"type": "boolean"}, "cors_enabled": {"type": "boolean"},
            "session_management": obj({"status": string(enum=["healthy", "degraded"]), "store": string(enum=["redis", "database"]),
                                       "redis_health": string(enum=["up", "down", "not_configured"])}, ["status", "store", "redis_health"]),
            "mfa": obj({"available_methods": {"type": "array", "items": string()},
                        "user_status": {"oneOf": [string(enum=["Not authenticated"]), ANY_OBJECT]}}, ["available_methods", "user_status"]),
        }, ["rating", "checks", "encryption", "security_rating", "tls_enabled", "cors_enabled", "session_management", "mfa"])),
        **errors("401", "429", "503")}, secured=False, tag="status")},
    "/health": {"get": op("Liveness", {"200": response("alive", ANY_OBJECT)}, secured=False, tag="status")},
    "/health/ready": {"get": op("Readiness: database, Redis, keyring", {"200": response("ready", ANY_OBJECT),
                                                                        "503": response("not ready", ANY_OBJECT)}, secured=False, tag="status")},
    "/.well-known/jwks.json": {"get": op("The token signing keys (JWKS)", {"200": response("keys", ANY_OBJECT), **errors("429")},
                                         secured=False, tag="status")},
    "/openapi.json": {"get": op("This document", {"200": response("OpenAPI 3.1", ANY_OBJECT), **errors("429")}, secured=False, tag="status")},
    "/metrics": {"get": op("Prometheus metrics (configured addresses only)", {"200": {"description": "text format",
                                                                                      "content": {"text/plain": {"schema": string()}}},
                                                                              **errors("404", "429")}, secured=False, tag="status")},
    "/v1/crypto/encrypt": {"post": op("Seal a field (or a batch) under the primary key", {
        "200": response("ciphertexts", ANY_OBJECT), **errors("403", *AUTHED)},
        {"oneOf": [FIELD_ITEM, obj({"items": {"type": "array", "maxItems": 100, "items": FIELD_ITEM}}, ["items"])]}, tag="crypto")},
    "/v1/crypto/decrypt": {"post": op("Open a field (or a batch)", {
        "200": response("plaintexts", ANY_OBJECT), **errors("403", *AUTHED)},
        {"oneOf": [CIPHER_ITEM, obj({"items": {"type": "array", "maxItems": 100, "items": CIPHER_ITEM}}, ["items"])]}, tag="crypto")},
    "/v1/crypto/rewrap": {"post": op("Re-encrypt a field (or a batch) under the primary key without returning the plaintext", {
        "200": response("ciphertexts", ANY_OBJECT), **errors("403", *AUTHED)},
        {"oneOf": [CIPHER_ITEM, obj({"items": {"type": "array", "maxItems": 100, "items": CIPHER_ITEM}}, ["items"])]}, tag="crypto")},
    "/v1/keys": {"get": op("The keyring: versions, states, ages, next rotation", {"200": response("keyring", ANY_OBJECT), **errors("403", *AUTHED)},
                           tag="keys")},
    "/v1/keys/rotate": {"post": op("Make a new primary key version", {"200": response("keyring", ANY_OBJECT), **errors("403", *AUTHED)}, tag="keys")},
    "/admin/accounts": {"post": op("Create an account", {"201": ACCOUNT_CREATED, **errors("403", "409", *AUTHED)},
                                   obj({"username": USERNAME, "password": PASSWORD, "email": string(254), "phone": string(32)}, ["username"]),
                                   tag="admin")},
    "/admin/accounts/{id}": {
        "get": op("An account and its roles", {"200": response("account", ANY_OBJECT), **errors("403", "404", *AUTHED)}, tag="admin", params=ACCOUNT_ID),
        "delete": op("Delete an account and its grants (its sessions end first)", {"204": response("deleted"), **errors("403", "404", "409", *AUTHED)},
                     tag="admin", params=ACCOUNT_ID),
    },
    "/admin/accounts/{id}/disable": {"post": op("Disable an account and end its sessions", {
        "200": response("account", ANY_OBJECT), **errors("403", "404", "409", *AUTHED)}, tag="admin", params=ACCOUNT_ID)},
    "/admin/accounts/{id}/enable": {"post": op("Enable a disabled account (its old sessions stay ended)", {
        "200": response("account", ANY_OBJECT), **errors("403", "404", *AUTHED)}, tag="admin", params=ACCOUNT_ID)},
    "/admin/accounts/{id}/unlock": {"post": op("Clear password and MFA locks", {
        "200": response("account", ANY_OBJECT), **errors("403", "404", *AUTHED)}, tag="admin", params=ACCOUNT_ID)},
    "/admin/accounts/{id}/password": {"post": op("Reset an account's password (every session of it ends)", {
        "200": response("changed", ANY_OBJECT), **errors("403", "404", *AUTHED)},
        obj({"new_password": PASSWORD}, ["new_password"]), tag="admin", params=ACCOUNT_ID)},
    "/admin/accounts/{id}/roles": {"post": op("Grant a role", {"200": response("roles", ANY_OBJECT), **errors("403", "404", *AUTHED)},
                                              obj({"role": string(64), "expires_at": string(format="date-time")}, ["role"]), tag="admin", params=ACCOUNT_ID)},
    "/admin/accounts/{id}/roles/{role}": {"delete": op("Revoke a role", {"204": response("revoked"), **errors("403", "404", "409", *AUTHED)},
                                                       tag="admin", params=ACCOUNT_ID + [path_param("role")])},
    "/admin/accounts/{id}/sessions": {
        "get": op("An account's sessions and devices", {"200": response("sessions", ANY_OBJECT), **errors("403", "404", *AUTHED)},
                  tag="admin", params=ACCOUNT_ID),
        "delete": op("End every session of an account", {"200": response("revoked", ANY_OBJECT), **errors("403", "404", *AUTHED)},
                     tag="admin", params=ACCOUNT_ID),
    },
    "/admin/audit": {"get": op("Recent audit events", {"200": response("events", ANY_OBJECT), **errors("403", *AUTHED)}, tag="admin",
                               params=[{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
}

# Operation ids (method + path) and links, so schemathesis's stateful phase can chain calls: an account
# created by POST /admin/accounts is then read, locked out, reset, granted roles and disabled; a login's
# session id is then revoked.
def operation_id(method, path):
    words = [part.strip("{}") for part in path.strip("/").replace(".", "").replace("-", "_").split("/")]
    return method + "_" + "_".join(words)


for path, operations in paths.items():
    for method, operation in operations.items():
        operation["operationId"] = operation_id(method, path)

ACCOUNT_LINKS = {
    "ReadAccount": "get /admin/accounts/{id}", "DeleteAccount": "delete /admin/accounts/{id}", "DisableAccount": "post /admin/accounts/{id}/disable",
    "EnableAccount": "post /admin/accounts/{id}/enable", "UnlockAccount": "post /admin/accounts/{id}/unlock",
    "ResetPassword": "post /admin/accounts/{id}/password", "GrantRole": "post /admin/accounts/{id}/roles",
    "ListSessions": "get /admin/accounts/{id}/sessions", "RevokeSessions": "delete /admin/accounts/{id}/sessions",
}
paths["/admin/accounts"]["post"]["responses"]["201"]["links"] = {
    name: {"operationId": operation_id(*target.split(" ")), "parameters": {"id": "$response.body#/id"}} for name, target in ACCOUNT_LINKS.items()
}
paths["/auth/login"]["post"]["responses"]["200"]["links"] = {
    "RevokeSession": {"operationId": operation_id("delete", "/auth/sessions/{id}"), "parameters": {"id": "$response.body#/session_id"}},
}

document = {
    "openapi": "3.1.0",
    "info": {"title": "Warden", "version": "1.0.0",
             "description": "Field encryption, password and multi-factor login, revocable sessions, RBAC and audit. See docs/api.md."},
    "servers": [{"url": "https://localhost:8443"}],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA)"}},
        "schemas": {"Error": ERROR},
    },
}

text = json.dumps(document, indent=2, sort_keys=True) + "\n"
(ROOT / "docs" / "openapi.json").write_text(text)
compact = json.dumps(document, sort_keys=True, separators=(",", ":"))
swift = ("// Generated by scripts/openapi.py from the same source as docs/openapi.json (which is the same document,\n"
         "// indented); do not edit by hand.\n\n"
         "/// The OpenAPI 3.1 description of the API, served at `GET /openapi.json`.\n"
         "enum OpenAPIDocument {\n    static let json = #\"\"\"\n" + compact + "\n\"\"\"#\n}\n")
(ROOT / "Sources" / "WardenHTTP" / "OpenAPIDocument.swift").write_text(swift)
print(f"wrote docs/openapi.json and Sources/WardenHTTP/OpenAPIDocument.swift ({len(paths)} paths)")
