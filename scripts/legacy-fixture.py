#!/usr/bin/env python3
"""Writes a fixture installation of the original system, in its exact on-disk shapes.

    scripts/legacy-fixture.py OUTDIR [--users N] [--profiles N] [--extra N] [--access-log N] [--seed S]

Produces OUTDIR/rbac.db, OUTDIR/digital_twin.db (WAL mode, as the original leaves it) and
OUTDIR/expected.json: the keys (DIGITAL_TWIN_MASTER_KEY, DIGITAL_TWIN_ENCRYPTION_KEY), every user with
the password that logs them in, and every encrypted cell's expected plaintext by location and row id.

Written from ../shared/seed/original-databases.md and original-implementation.md, with Python's
`cryptography` (Fernet, AES-GCM) and hashlib's PBKDF2, as the original did:
- users: password hashes in the register form (PBKDF2 over the 32 raw salt bytes) and the login form
  (over the 64 characters of the hex salt), some NULL; both timestamp shapes; disabled users; Unicode
  names; users without roles; grants that expired and grants that expire later; a role outside the enum;
- digital_twin.db: twin tokens (PBKDF2-derived Fernet key, {"data": str(value), "meta": ...} wrapper,
  Python repr for lists and dicts, non-ASCII escaped) with NULL cells, empty BLOBs, plaintext left in an
  encrypted column, expired and orphan profiles, a few hypothetical session and knowledge rows;
- extra_encrypted (synthetic, not in the original): enhanced AES-GCM JSON envelopes under four key
  versions (one with the 4-hex form of the user's document, one older than 60 days), raw-key Fernet as
  BLOB and TEXT, a plaintext, a NULL and an empty value.
"""
import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random
import sqlite3

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROLES = ["guest", "user", "student", "educator", "researcher", "moderator", "operator", "compliance_officer",
         "data_protection_officer", "admin", "super_admin", "service_account", "api_client"]
PARENTS = {"guest": None, "user": "guest", "student": "user", "educator": "user", "researcher": "user",
           "moderator": "user", "operator": "moderator", "compliance_officer": "user",
           "data_protection_officer": "compliance_officer", "admin": "operator", "super_admin": "admin",
           "service_account": None, "api_client": "user"}
PERMISSIONS = ["digital_twin:read", "digital_twin:write", "digital_twin:delete", "digital_twin:admin",
               "evolution_metrics:read", "evolution_metrics:write", "evolution_metrics:admin",
               "rag_pipeline:query", "rag_pipeline:write", "rag_pipeline:admin", "p2p_network:connect",
               "p2p_network:admin", "system:admin", "system:monitoring", "system:backup", "compliance:view",
               "compliance:manage", "compliance:audit", "user:read", "user:write", "user:delete", "user:admin"]
TWIN_SALT = b"digital_twin_salt_aivillage_2025"
USER_ID_SALT = b"aivillage_user_id_salt_2025"

RBAC_SCHEMA = """
CREATE TABLE roles (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, display_name TEXT NOT NULL,
  description TEXT, parent_role TEXT, is_system_role BOOLEAN DEFAULT 0,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE permissions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, display_name TEXT NOT NULL,
  description TEXT, resource TEXT, action TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE role_permissions (id INTEGER PRIMARY KEY AUTOINCREMENT,
  role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE ON UPDATE CASCADE,
  permission_name TEXT NOT NULL REFERENCES permissions(name) ON DELETE CASCADE ON UPDATE CASCADE,
  granted_by TEXT, granted_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, expires_at TIMESTAMP, UNIQUE(role_name, permission_name));
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT UNIQUE NOT NULL, username TEXT UNIQUE NOT NULL,
  email TEXT, password_hash TEXT, password_salt TEXT, is_active BOOLEAN DEFAULT 1, is_verified BOOLEAN DEFAULT 0,
  last_login TIMESTAMP, failed_login_attempts INTEGER DEFAULT 0, locked_until TIMESTAMP,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  requires_coppa_consent BOOLEAN DEFAULT 0, coppa_consent_date TIMESTAMP, gdpr_consent BOOLEAN DEFAULT 0,
  gdpr_consent_date TIMESTAMP, data_retention_expires TIMESTAMP);
CREATE TABLE user_roles (id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE ON UPDATE CASCADE,
  role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE ON UPDATE CASCADE,
  assigned_by TEXT, assigned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, expires_at TIMESTAMP, UNIQUE(user_id, role_name));
CREATE TABLE access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  user_id TEXT, action TEXT NOT NULL, resource TEXT, permission_required TEXT, access_granted BOOLEAN,
  denial_reason TEXT, ip_address TEXT, user_agent TEXT, session_id TEXT);
CREATE INDEX idx_role_permissions_role ON role_permissions(role_name);
CREATE INDEX idx_role_permissions_perm ON role_permissions(permission_name);
CREATE INDEX idx_user_roles_user ON user_roles(user_id);
CREATE INDEX idx_user_roles_role ON user_roles(role_name);
CREATE INDEX idx_access_log_user ON access_log(user_id);
CREATE INDEX idx_access_log_timestamp ON access_log(timestamp);
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_email ON users(email);
"""

TWIN_SCHEMA = """
CREATE TABLE learning_profiles (id INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_id TEXT UNIQUE NOT NULL CHECK(length(profile_id) > 0), user_id_hash TEXT NOT NULL CHECK(length(user_id_hash) = 64),
  preferred_difficulty TEXT DEFAULT 'medium', created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, learning_style_encrypted BLOB, knowledge_domains_encrypted BLOB,
  learning_goals_encrypted BLOB, privacy_settings_encrypted BLOB, ttl_expires_at TIMESTAMP, compliance_flags TEXT,
  audit_log_enabled BOOLEAN DEFAULT 1, last_accessed TIMESTAMP DEFAULT CURRENT_TIMESTAMP, access_count INTEGER DEFAULT 0);
CREATE TABLE learning_sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT UNIQUE NOT NULL,
  profile_id TEXT NOT NULL REFERENCES learning_profiles(profile_id) ON DELETE CASCADE ON UPDATE CASCADE,
  session_type TEXT NOT NULL CHECK(session_type IN ('lesson', 'assessment', 'practice', 'review')),
  start_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP, end_time TIMESTAMP, duration_minutes REAL,
  topics_covered_encrypted BLOB, performance_metrics_encrypted BLOB, engagement_score_encrypted BLOB,
  completion_status TEXT DEFAULT 'in_progress' CHECK(completion_status IN ('in_progress', 'completed', 'abandoned', 'expired')),
  privacy_level TEXT DEFAULT 'standard', requires_parental_consent BOOLEAN DEFAULT 0);
CREATE TABLE knowledge_states (id INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_id TEXT NOT NULL REFERENCES learning_profiles(profile_id) ON DELETE CASCADE ON UPDATE CASCADE,
  knowledge_domain TEXT NOT NULL, topic TEXT NOT NULL,
  mastery_level REAL DEFAULT 0.0 CHECK(mastery_level >= 0.0 AND mastery_level <= 1.0),
  confidence_score REAL DEFAULT 0.0 CHECK(confidence_score >= 0.0 AND confidence_score <= 1.0),
  last_accessed TIMESTAMP DEFAULT CURRENT_TIMESTAMP, learning_trajectory_encrypted BLOB, prerequisites_met BOOLEAN DEFAULT FALSE,
  UNIQUE(profile_id, knowledge_domain, topic));
CREATE TABLE compliance_audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  action TEXT NOT NULL CHECK(action IN ('create', 'read', 'update', 'delete', 'encrypt', 'decrypt', 'consent_granted',
  'consent_revoked', 'data_exported', 'data_deleted')), profile_id TEXT, user_id_hash TEXT, field_name TEXT,
  compliance_type TEXT CHECK(compliance_type IN ('COPPA', 'FERPA', 'GDPR', 'GENERAL')), compliance_status TEXT,
  ip_address TEXT, user_agent TEXT, session_id TEXT, additional_data TEXT);
CREATE TABLE data_retention_tracking (id INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_id TEXT NOT NULL REFERENCES learning_profiles(profile_id) ON DELETE CASCADE ON UPDATE CASCADE,
  created_at TIMESTAMP NOT NULL, scheduled_deletion_at TIMESTAMP NOT NULL, retention_policy TEXT NOT NULL,
  last_review_at TIMESTAMP, review_status TEXT DEFAULT 'pending' CHECK(review_status IN ('pending', 'reviewed', 'approved', 'rejected')),
  deletion_requested BOOLEAN DEFAULT 0, deletion_requested_at TIMESTAMP, deletion_reason TEXT);
CREATE INDEX idx_profiles_user_hash ON learning_profiles(user_id_hash);
CREATE INDEX idx_profiles_ttl ON learning_profiles(ttl_expires_at);
CREATE INDEX idx_profiles_updated ON learning_profiles(updated_at);
CREATE INDEX idx_sessions_profile ON learning_sessions(profile_id);
CREATE INDEX idx_sessions_start ON learning_sessions(start_time);
CREATE INDEX idx_knowledge_profile ON knowledge_states(profile_id);
CREATE INDEX idx_knowledge_domain ON knowledge_states(knowledge_domain);
CREATE INDEX idx_audit_timestamp ON compliance_audit_log(timestamp);
CREATE INDEX idx_audit_profile ON compliance_audit_log(profile_id);
CREATE INDEX idx_retention_scheduled ON data_retention_tracking(scheduled_deletion_at);
"""


def shape_a(t):
    """SQLite CURRENT_TIMESTAMP."""
    return t.strftime("%Y-%m-%d %H:%M:%S")


def shape_b(t):
    """Python's sqlite3 default adapter: str(datetime), fraction omitted when 0."""
    return str(t)


class Keys:
    def __init__(self, rng, alphabet):
        while True:
            raw = bytes(rng.getrandbits(8) for _ in range(32))
            text = base64.b64encode(raw).decode()
            if alphabet != "plus-slash" or ("+" in text or "/" in text):
                break
        self.encryption_key_text = text if alphabet == "plus-slash" else base64.urlsafe_b64encode(raw).decode()
        self.encryption_raw = raw
        self.master_raw = bytes(rng.getrandbits(8) for _ in range(32))
        self.master_text = base64.urlsafe_b64encode(self.master_raw).decode()
        # Raw-key Fernet: Python's Fernet decodes the same text with urlsafe_b64decode ('+' and '/' pass).
        self.raw_fernet = Fernet(base64.urlsafe_b64encode(raw))
        twin_key = hashlib.pbkdf2_hmac("sha256", base64.b64decode(text if alphabet == "plus-slash" else base64.b64encode(raw)),
                                       TWIN_SALT, 100000, 32)
        self.twin_fernet = Fernet(base64.urlsafe_b64encode(twin_key))
        self.version_keys = {}

    def version_key(self, version):
        if version not in self.version_keys:
            self.version_keys[version] = hashlib.pbkdf2_hmac(
                "sha256", self.master_raw, (version + "digital_twin_salt").encode(), 100000, 32)
        return self.version_keys[version]


def twin_token(keys, field, value, flags, at):
    payload = {"data": str(value), "meta": {"field": field, "encrypted_at": at.isoformat(),
                                           "compliance_flags": flags}}
    return keys.twin_fernet.encrypt(json.dumps(payload).encode())


def enhanced_envelope(keys, version, plaintext, rng):
    nonce = bytes(rng.getrandbits(8) for _ in range(12))
    sealed = AESGCM(keys.version_key(version)).encrypt(nonce, plaintext.encode(), None)
    envelope = {"version": version, "iv": base64.b64encode(nonce).decode(), "tag": base64.b64encode(sealed[-16:]).decode(),
                "data": base64.b64encode(sealed[:-16]).decode(), "algorithm": "AES-256-GCM"}
    return json.dumps(envelope).encode()


def pbkdf2_hex(password, salt_bytes):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, 100000).hex()


def token_urlsafe(rng, n):
    return base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(n))).rstrip(b"=").decode()


def write_rbac(path, rng, args, now, expected):
    db = sqlite3.connect(path)
    db.executescript(RBAC_SCHEMA)
    for role in ROLES:
        db.execute("INSERT INTO roles (name, display_name, description, parent_role, is_system_role) VALUES (?, ?, ?, ?, 1)",
                   (role, role.replace("_", " ").title(), f"{role} role", PARENTS[role]))
    for permission in PERMISSIONS:
        resource, action = permission.split(":")
        db.execute("INSERT INTO permissions (name, display_name, description, resource, action) VALUES (?, ?, ?, ?, ?)",
                   (permission, permission.replace(":", " ").replace("_", " ").title(), f"Permission to {action} {resource}",
                    resource, action))
    for role, permission in [("user", "digital_twin:read"), ("user", "digital_twin:write"), ("user", "rag_pipeline:query"),
                             ("student", "evolution_metrics:read"), ("admin", "user:delete")]:
        db.execute("INSERT INTO role_permissions (role_name, permission_name, granted_by) VALUES (?, ?, 'SYSTEM_INIT')",
                   (role, permission))
    names = ["alice", "bob.smith", "carol", "dave_ops", "eve", "frank", "grace", "heidi", "ivan", "judy", "mallory",
             "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoë"]
    users = []
    for i in range(args.users):
        name = names[i] if i < len(names) else f"user{i:04d}"
        if i == 7:
            name = "Jürgen.Müller"
        user_id = "user_" + token_urlsafe(rng, 8)
        email = None if i % 9 == 4 else f"{name.lower().replace('ü', 'u').replace('ë', 'e')}@example.org"
        if i == 5:
            email = "not an email"
        password = f"pw-{i}-{token_urlsafe(rng, 6)}"
        form = "register" if i % 10 < 7 else ("login" if i % 10 < 9 else "none")
        salt = bytes(rng.getrandbits(8) for _ in range(32))
        salt_hex = salt.hex()
        if form == "register":
            digest = pbkdf2_hex(password, salt)
        elif form == "login":
            digest = pbkdf2_hex(password, salt_hex.encode())
        else:
            digest, salt_hex, password = None, None, None
        active = 0 if i % 11 == 3 else 1
        created = shape_a(now - dt.timedelta(days=200 - i)) if i % 2 == 0 else \
            shape_b(now - dt.timedelta(days=200 - i, microseconds=rng.randrange(0, 999999)))
        db.execute("INSERT INTO users (user_id, username, email, password_hash, password_salt, is_active, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (user_id, name, email, digest, salt_hex, active, created, created))
        roles_active, roles_expired = [], []
        if i % 10 >= 3:  # about 30% of users have no grant at all
            role = ROLES[1 + i % 12]
            expires = None
            if i % 5 == 0:
                expires = shape_b(now + dt.timedelta(days=90, microseconds=169407))
            db.execute("INSERT INTO user_roles (user_id, role_name, assigned_by, expires_at) VALUES (?, ?, 'SYSTEM', ?)",
                       (user_id, role, expires))
            roles_active.append(role)
            if i % 4 == 1:
                db.execute("INSERT INTO user_roles (user_id, role_name, assigned_by, expires_at) VALUES (?, 'educator', 'SYSTEM', ?)",
                           (user_id, shape_b(now - dt.timedelta(days=3, microseconds=5))))
                roles_expired.append("educator")
        if i == 9:
            db.execute("PRAGMA foreign_keys=OFF")
            db.execute("INSERT INTO user_roles (user_id, role_name, assigned_by) VALUES (?, 'wizard', 'SYSTEM')", (user_id,))
        users.append({"user_id": user_id, "username": name, "email": email, "password": password, "hash_form": form,
                      "active": bool(active), "roles": sorted(roles_active),
                      "expired_roles": roles_expired})
    for i in range(args.access_log):
        user = users[i % len(users)] if users else None
        permission = PERMISSIONS[i % len(PERMISSIONS)]
        db.execute("INSERT INTO access_log (timestamp, user_id, action, resource, permission_required, access_granted) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (shape_a(now - dt.timedelta(hours=args.access_log - i)),
                                                 user["user_id"] if user else None, permission,
                                                 None if i % 3 else f"resource-{i}", permission, 1 if i % 4 else 0))
    db.commit()
    db.close()
    expected["users"] = users
    expected["access_log_rows"] = args.access_log


def write_twin(path, rng, args, keys, now, expected, users):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(TWIN_SCHEMA)
    flags = {"coppa": True, "ferpa": True, "gdpr": True}
    values = {}
    columns = ["learning_style_encrypted", "knowledge_domains_encrypted", "learning_goals_encrypted", "privacy_settings_encrypted"]
    samples = {
        "learning_style": ["auditory", "visual", "kinesthetic", "lecture‑style ☕"],
        "knowledge_domains": [["mathematics", "science"], ["history"], []],
        "learning_goals": [["pass the exam"], {"weekly_hours": 5}, 42, None],
        "privacy_settings": [{"share_progress": False}, {"share_progress": True, "public": "ñ"}],
    }
    db.execute("BEGIN")
    for i in range(args.profiles):
        user_id = users[i % len(users)]["user_id"] if users and i % 7 != 6 else f"user_orphan{i}"
        profile_id = "profile_" + "".join(rng.choice("0123456789abcdef") for _ in range(16))
        created = now - dt.timedelta(days=rng.randrange(1, 400))
        ttl = created + dt.timedelta(days=365)
        row = {}
        for column in columns:
            field = column[: -len("_encrypted")]
            choice = (i + columns.index(column)) % 13
            if choice == 0:
                row[column] = (None, None)
            elif choice == 1:
                row[column] = (b"", None)
            elif choice == 2 and column == "learning_style_encrypted":
                row[column] = (b"auditory", "auditory")  # plaintext left in an encrypted column
            else:
                value = samples[field][i % len(samples[field])]
                row[column] = (twin_token(keys, field, value, flags, created), str(value))
        cursor = db.execute(
            "INSERT INTO learning_profiles (profile_id, user_id_hash, preferred_difficulty, created_at, updated_at, "
            "learning_style_encrypted, knowledge_domains_encrypted, learning_goals_encrypted, privacy_settings_encrypted, "
            "ttl_expires_at, compliance_flags) VALUES (?, ?, 'medium', ?, ?, ?, ?, ?, ?, ?, ?)",
            (profile_id, hashlib.sha256(user_id.encode() + USER_ID_SALT).hexdigest(), shape_a(created), shape_a(created),
             *[row[c][0] for c in columns], shape_b(ttl),
             json.dumps({"coppa_compliant": True, "ferpa_compliant": True, "gdpr_compliant": True,
                         "requires_parental_consent": False, "educational_record": True})))
        rowid = cursor.lastrowid
        for column in columns:
            values.setdefault(f"twin/learning_profiles/{column}", {})[str(rowid)] = row[column][1]
        db.execute("INSERT INTO data_retention_tracking (profile_id, created_at, scheduled_deletion_at, retention_policy) "
                   "VALUES (?, ?, ?, 'TTL_365_DAYS')", (profile_id, shape_b(created), shape_b(ttl)))
        db.execute("INSERT INTO compliance_audit_log (action, profile_id, user_id_hash, compliance_type, compliance_status, "
                   "session_id, additional_data) VALUES ('create', ?, ?, 'GENERAL', 'compliant', ?, ?)",
                   (profile_id, hashlib.sha256(user_id.encode() + USER_ID_SALT).hexdigest(),
                    "".join(rng.choice("0123456789abcdef") for _ in range(16)),
                    json.dumps({"profile_created": True, "encryption_enabled": True})))
        if i < 3:  # hypothetical rows: no original code writes these tables
            session = db.execute(
                "INSERT INTO learning_sessions (session_id, profile_id, session_type, topics_covered_encrypted, "
                "performance_metrics_encrypted, engagement_score_encrypted) VALUES (?, ?, 'lesson', ?, ?, NULL)",
                (f"session-{i}", profile_id, twin_token(keys, "topics_covered", ["fractions"], flags, created),
                 twin_token(keys, "performance_metrics", {"score": 0.9}, flags, created)))
            values.setdefault("twin/learning_sessions/topics_covered_encrypted", {})[str(session.lastrowid)] = str(["fractions"])
            values.setdefault("twin/learning_sessions/performance_metrics_encrypted", {})[str(session.lastrowid)] = str({"score": 0.9})
            values.setdefault("twin/learning_sessions/engagement_score_encrypted", {})[str(session.lastrowid)] = None
            state = db.execute(
                "INSERT INTO knowledge_states (profile_id, knowledge_domain, topic, learning_trajectory_encrypted) VALUES (?, 'math', ?, ?)",
                (profile_id, f"topic-{i}", twin_token(keys, "learning_trajectory", [0.1, 0.5], flags, created)))
            values.setdefault("twin/knowledge_states/learning_trajectory_encrypted", {})[str(state.lastrowid)] = str([0.1, 0.5])
    db.execute("COMMIT")
    # Synthetic: the formats no original database holds.
    db.execute("CREATE TABLE extra_encrypted (id INTEGER PRIMARY KEY, field TEXT, value)")
    versions = [f"v_{(now - dt.timedelta(days=90)).strftime('%Y%m%d_%H%M%S')}_1a2b3c4d",
                f"v_{(now - dt.timedelta(days=40)).strftime('%Y%m%d_%H%M%S')}_a1b2",
                f"v_{(now - dt.timedelta(days=10)).strftime('%Y%m%d_%H%M%S')}_5e6f7a8b",
                f"v_{(now - dt.timedelta(days=1)).strftime('%Y%m%d_%H%M%S')}_9c0d1e2f"]
    extra = {}
    db.execute("BEGIN")
    specials = [("note", None, None), ("note", b"", None), ("note", "left in plaintext", "left in plaintext")]
    for index, (field, stored, plain) in enumerate(specials, start=1):
        db.execute("INSERT INTO extra_encrypted (id, field, value) VALUES (?, ?, ?)", (index, field, stored))
        extra[str(index)] = plain
    for n in range(args.extra):
        rowid = len(specials) + 1 + n
        plaintext = f"value {n} · {token_urlsafe(rng, 6)}"
        kind = n % 8
        if kind < 4 and n < 400:
            stored = enhanced_envelope(keys, versions[kind], plaintext, rng)
        elif kind % 2 == 0:
            stored = keys.raw_fernet.encrypt(plaintext.encode())  # bytes: BLOB
        else:
            stored = keys.raw_fernet.encrypt(plaintext.encode()).decode()  # str: TEXT
        db.execute("INSERT INTO extra_encrypted (id, field, value) VALUES (?, 'secret', ?)", (rowid, stored))
        extra[str(rowid)] = plaintext
    db.execute("COMMIT")
    values["twin/extra_encrypted/value"] = extra
    db.close()
    expected["values"] = values
    expected["legacy_versions"] = versions


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--profiles", type=int, default=60)
    parser.add_argument("--extra", type=int, default=200)
    parser.add_argument("--access-log", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--key-alphabet", choices=["plus-slash", "url-safe"], default="plus-slash")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    for name in ["rbac.db", "digital_twin.db", "digital_twin.db-wal", "digital_twin.db-shm"]:
        if os.path.exists(os.path.join(args.outdir, name)):
            os.remove(os.path.join(args.outdir, name))
    keys = Keys(rng, args.key_alphabet)
    now = dt.datetime.utcnow().replace(microsecond=0)
    expected = {"env": {"DIGITAL_TWIN_MASTER_KEY": keys.master_text, "DIGITAL_TWIN_ENCRYPTION_KEY": keys.encryption_key_text}}
    write_rbac(os.path.join(args.outdir, "rbac.db"), rng, args, now, expected)
    write_twin(os.path.join(args.outdir, "digital_twin.db"), rng, args, keys, now, expected, expected["users"])
    with open(os.path.join(args.outdir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":
    main()
