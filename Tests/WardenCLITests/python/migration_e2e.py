"""`warden migrate` against a fixture installation of the original system, as an operator runs it.

  migration_e2e.py <warden binary> <scenario>

Scenarios (each in a fresh directory, with a fixture from scripts/legacy-fixture.py):
  full      plan → run → verify → status; every fixture user logs in over HTTP with the fixture password
            (and is rehashed to scrypt); every value opens over HTTP (POST /v1/crypto/decrypt) under its
            documented context and equals the fixture's plaintext; the audit chain verifies with the
            imported access log in it; a second run changes nothing; restore puts back every original
            byte; key-version accounting (keys status, retire refused, grace closed).
  writer    an application writes to the migrated column while the run is going: no update is lost.
  kill      at least 30 SIGKILLs at random moments during a migration of 20,000+ values, then a run to
            the end: zero values lost, zero encrypted twice, zero left legacy.
  errors    a wrong legacy key, a truncated token, a read-only database, a backup directory others can
            read: each stops with a message naming table, column and row (never a value) and leaves the
            data as it was; --skip-unreadable records the rows and goes on.

Exits non-zero with a message at the first failure. Uses the standard library, `cryptography`
(the original's Fernet, to write legacy values as the application would) and sqlite3.
"""
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cryptography.fernet import Fernet

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "scripts", "legacy-fixture.py"))
WARDEN = sys.argv[1]
SCENARIO = sys.argv[2]
ADMIN_PASSWORD = "correct horse battery staple"


def check(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


class Setup:
    """A fixture and a Warden data directory."""

    def __init__(self, **fixture_args):
        self.root = tempfile.mkdtemp(prefix="warden-migrate-")
        self.fixture = os.path.join(self.root, "fixture")
        arguments = [sys.executable, FIXTURE, self.fixture]
        for key, value in fixture_args.items():
            arguments += ["--" + key.replace("_", "-"), str(value)]
        subprocess.run(arguments, check=True)
        self.expected = json.load(open(os.path.join(self.fixture, "expected.json")))
        self.data = os.path.join(self.root, "warden")
        self.backup = os.path.join(self.root, "backup")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "DIGITAL_TWIN_"))}
        self.env.update(self.expected["env"])
        self.env.update({"WARDEN_DATA_DIR": self.data, "WARDEN_SCRYPT_LOG_N": "10", "USER": "migrator",
                         "WARDEN_AUTH_RATE_LIMIT_PER_MINUTE": "100000", "WARDEN_RATE_LIMIT_PER_MINUTE": "1000000"})
        self.twin = os.path.join(self.fixture, "digital_twin.db")
        self.rbac = os.path.join(self.fixture, "rbac.db")

    def sources(self, *extra):
        return ["--rbac-db", self.rbac, "--twin-db", self.twin, "--column", "extra_encrypted.value", "--backup-dir", self.backup, *extra]

    def warden(self, *arguments, env=None, input=None, expect=0):
        result = subprocess.run([WARDEN, *arguments], env=env or self.env, capture_output=True, text=True, input=input, timeout=900)
        if expect is not None:
            check(result.returncode == expect, f"warden {' '.join(arguments)} exited {result.returncode}, expected {expect}\n{result.stdout}\n{result.stderr}")
        for secret in self.expected["env"].values():
            check(secret not in result.stdout + result.stderr, f"a legacy key appeared in the output of warden {arguments[0]}")
        return result

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def cells(database, table, column):
    connection = sqlite3.connect(database)
    try:
        return {str(key): value for key, value in connection.execute(f'SELECT id, "{column}" FROM "{table}"')}
    finally:
        connection.close()


def snapshot(setup):
    """Every migrated column's cells, by location."""
    result = {}
    for location in setup.expected["values"]:
        _, table, column = location.split("/")
        result[location] = cells(setup.twin, table, column)
    return result


def to_text_envelope(value):
    """A Warden envelope cell as its text form (binary envelopes in BLOBs: 0x57 0x01, version, nonce‖ct‖tag)."""
    if isinstance(value, str):
        return value
    check(value[:2] == b"W\x01", "a BLOB is not a binary envelope")
    version = int.from_bytes(value[2:6], "big")
    return f"wd1:{version}:" + base64.urlsafe_b64encode(value[6:]).rstrip(b"=").decode()


class Server:
    def __init__(self, setup):
        self.process = subprocess.Popen([WARDEN, "serve", "--port", "0", "--no-tls"], env=setup.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines = []
        while True:
            line = self.process.stdout.readline()
            check(line != "", "serve exited: " + "".join(self.lines))
            self.lines.append(line)
            if line.startswith("warden: listening on "):
                self.url = line[len("warden: listening on "):].strip()
                break
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    def call(self, method, path, body=None, token=None):
        request = urllib.request.Request(self.url + path, data=None if body is None else json.dumps(body).encode(), method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()


def decrypt_all(server, token, values):
    """Opens (location, key, cell) triples over HTTP in batches of 100; returns plaintexts (str) in order."""
    out = []
    for start in range(0, len(values), 100):
        batch = values[start:start + 100]
        items = [{"ciphertext": to_text_envelope(cell), "context": f"{location.split('/')[1]}/{location.split('/')[2]}/{key}"}
                 for location, key, cell in batch]
        status, body = server.call("POST", "/v1/crypto/decrypt", {"items": items}, token)
        check(status == 200, f"decrypt batch: {status} {body}")
        for result, (location, key, _) in zip(body["items"], batch):
            check("plaintext" in result, f"{location} row {key} does not open over HTTP under its context: {result}")
            out.append(base64.b64decode(result["plaintext"]).decode())
    return out


def check_values(setup, server, token, expected_values=None):
    """Every expected value is a Warden envelope that opens to its plaintext; NULL and empty stay so."""
    expected_values = expected_values or setup.expected["values"]
    now = snapshot(setup)
    pending = []
    for location, rows in expected_values.items():
        for key, plaintext in rows.items():
            cell = now[location].get(key, "MISSING")
            check(cell != "MISSING", f"{location} row {key} is gone")
            if plaintext is None:
                check(cell is None or cell == b"", f"{location} row {key}: NULL/empty became {cell!r}"[:200])
                continue
            pending.append((location, key, cell, plaintext))
    opened = decrypt_all(server, token, [(l, k, c) for l, k, c, _ in pending])
    for (location, key, _, plaintext), value in zip(pending, opened):
        check(value == plaintext, f"{location} row {key}: opened to something else (double encryption or a lost value)")
    return len(pending)


def admin_token(setup, server):
    setup.warden("users", "create", "migration-admin", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    setup.warden("users", "grant", "migration-admin", "crypto_client")
    status, body = server.call("POST", "/auth/login", {"username": "migration-admin", "password": ADMIN_PASSWORD})
    check(status == 200, f"admin login: {status} {body}")
    return body["access_token"]


def scenario_full():
    setup = Setup(users=24, profiles=60, extra=200, access_log=50)
    before = snapshot(setup)
    plan = json.loads(setup.warden("migrate", "plan", *setup.sources(), "--json").stdout)
    check(plan["ok"], f"plan found failures: {json.dumps(plan)[:2000]}")
    check(plan["accounts"]["users"] == 24 and plan["accounts"]["roleless"] > 0, "plan: accounts not counted")
    check(snapshot(setup) == before, "plan changed data")
    # No backup directory: refused before anything is written.
    result = setup.warden("migrate", "run", "--rbac-db", setup.rbac, "--twin-db", setup.twin, expect=1)
    check("backup directory is required" in result.stderr, result.stderr)
    check(snapshot(setup) == before, "a run without a backup changed data")

    run = json.loads(setup.warden("migrate", "run", *setup.sources(), "--json").stdout)
    check(run["ok"], f"run failed: {json.dumps(run)[:2000]}")
    check(run["accounts"]["imported"] == 24, "accounts not imported")
    check(run["accounts"]["audit_entries"] == 50, "access log not imported")
    verify = json.loads(setup.warden("migrate", "verify", *setup.sources(), "--json").stdout)
    check(verify["ok"], f"verify failed: {json.dumps(verify)[:2000]}")
    for column in verify["columns"]:
        check(column["remaining_legacy"] == 0, f"{column['location']} still has legacy values")
    status = setup.warden("migrate", "status", "--backup-dir", setup.backup).stdout
    check("state: finished" in status and "backup: verified" in status, status)
    # Backup: private and sealed (no legacy value, no fixture plaintext in any backup file).
    check(stat.S_IMODE(os.stat(setup.backup).st_mode) == 0o700, "backup directory mode")
    blob = b"".join(open(os.path.join(setup.backup, "backup", name), "rb").read() for name in os.listdir(os.path.join(setup.backup, "backup")))
    check(b"gAAAAA" not in blob and b"auditory" not in blob and b"digital_twin_salt" not in blob, "the backup holds legacy values in the clear")

    server = Server(setup)
    try:
        token = admin_token(setup, server)
        count = check_values(setup, server, token)
        check(count > 400, f"only {count} values checked")
        # Every fixture user: active with a password logs in with the fixture password; others do not.
        for user in setup.expected["users"]:
            if user["password"] is None:
                continue
            status, body = server.call("POST", "/auth/login", {"username": user["username"], "password": user["password"]})
            if user["active"]:
                check(status == 200 and "access_token" in body, f"{user['user_id']} ({user['hash_form']} hash) cannot log in: {status} {body}")
                status, body = server.call("POST", "/auth/login", {"username": user["username"], "password": user["password"] + "x"})
                check(status == 401, f"a wrong password for {user['user_id']} answered {status}")
            else:
                check(status == 401, f"disabled user {user['user_id']} logged in: {status}")
    finally:
        server.stop()
    check(not any(user["password"] and user["password"] in "".join(server.lines) for user in setup.expected["users"]), "a password reached the log")
    # Logged-in users were rehashed to scrypt.
    hashes = dict(sqlite3.connect(os.path.join(setup.data, "warden.db")).execute("SELECT username, password_hash FROM warden_accounts"))
    for user in setup.expected["users"]:
        if user["password"] and user["active"]:
            check(hashes[user["username"]].startswith("$scrypt$"), f"{user['user_id']} not rehashed")
    # Grants: active grants imported with expiry, expired ones not.
    grants = sqlite3.connect(os.path.join(setup.data, "warden.db")).execute(
        "SELECT a.username, g.role FROM warden_grants g JOIN warden_accounts a ON a.id = g.account_id").fetchall()
    held = {}
    for username, role in grants:
        held.setdefault(username, set()).add(role)
    for user in setup.expected["users"]:
        roles = held.get(user["username"], set()) - {"crypto_client"}
        check(roles == set(user["roles"]), f"{user['user_id']} holds {roles}, expected {user['roles']}")
    # The audit chain verifies, with the imported history in it, marked and with the original times.
    setup.warden("audit", "verify")
    tail = setup.warden("audit", "tail", "--json", "--limit", "10000").stdout
    imported = [json.loads(line) for line in tail.splitlines() if '"imported.access_check"' in line]
    check(len(imported) == 50 and all(entry["details"]["imported"] == "true" for entry in imported), "imported access log entries")
    check(any(entry["outcome"] == "denied" for entry in imported), "denied access checks not imported as denied")
    # Running again changes nothing; restore puts every original byte back.
    after = snapshot(setup)
    again = json.loads(setup.warden("migrate", "run", *setup.sources(), "--json").stdout)
    check(sum(column["rewritten"] for column in again["columns"]) == 0 and again["accounts"]["imported"] == 0, "a second run rewrote values")
    check(snapshot(setup) == after, "a second run changed data")
    # Key accounting: version 1 in use; a rotation and a rewrap move everything to version 2.
    status = setup.warden("keys", "status", "--json").stdout
    check(json.loads(status)["versions"][0]["values_in_counted_columns"] > 400, status[:500])
    setup.warden("keys", "rotate")
    refused = setup.warden("keys", "retire", "--below", "2", expect=1)
    check("still use version 1" in refused.stderr, refused.stderr)
    rewrap_backup = setup.backup + "-rewrap"
    setup.warden("migrate", "run", "--rbac-db", setup.rbac, "--twin-db", setup.twin, "--column", "extra_encrypted.value",
                 "--backup-dir", rewrap_backup, "--rewrap-old-versions", "--quiet")
    versions = json.loads(setup.warden("keys", "status", "--json").stdout)["versions"]
    check([v["values_in_counted_columns"] for v in versions if v["number"] == 1] == [0], f"version 1 still counted: {versions}")
    # The rewrap run's restore would put version-1 envelopes back; restore the first migration instead.
    restore = json.loads(setup.warden("migrate", "restore", "--twin-db", setup.twin, "--column", "extra_encrypted.value",
                                      "--backup-dir", setup.backup, "--json", "--force").stdout)
    check(restore["ok"], f"restore: {json.dumps(restore)[:2000]}")
    check(snapshot(setup) == before, "restore did not put back every original byte")
    check(os.path.exists(os.path.join(setup.backup, "restored-rbac.db")), "the rbac.db copy was not restored")
    check(open(os.path.join(setup.backup, "restored-rbac.db"), "rb").read() == open(setup.rbac, "rb").read(), "rbac.db copy differs")
    setup.cleanup()
    print("full: ok")


def scenario_writer():
    setup = Setup(users=3, profiles=10, extra=6000, access_log=0)
    fernet = Fernet(base64.urlsafe_b64encode(base64.b64decode(setup.expected["env"]["DIGITAL_TWIN_ENCRYPTION_KEY"])))
    last = {}
    stop = threading.Event()
    errors = []

    def writer():
        connection = sqlite3.connect(setup.twin, timeout=30)
        rng = random.Random(7)
        n = 0
        try:
            while not stop.is_set():
                key = rng.randrange(4, 6004)
                plaintext = f"written by the application {n}"
                # Half legacy tokens (an old application still running), half plaintext.
                value = fernet.encrypt(plaintext.encode()) if n % 2 else plaintext
                connection.execute("UPDATE extra_encrypted SET value = ? WHERE id = ?", (value, key))
                connection.commit()
                last[str(key)] = plaintext
                n += 1
                time.sleep(0.002)
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.3)
    setup.warden("migrate", "run", *setup.sources(), "--batch-size", "200", "--quiet")
    stop.set()
    thread.join()
    check(not errors, f"the application's writes failed: {errors}")
    check(len(last) > 50, f"the application wrote only {len(last)} rows during the run")
    # Writes that came after the run are legacy again: a second run picks them up.
    setup.warden("migrate", "run", *setup.sources(), "--quiet")
    verify = json.loads(setup.warden("migrate", "verify", *setup.sources(), "--json").stdout)
    check(verify["ok"], f"verify: {json.dumps(verify)[:2000]}")
    expected = dict(setup.expected["values"])
    expected["twin/extra_encrypted/value"] = dict(expected["twin/extra_encrypted/value"], **last)
    server = Server(setup)
    try:
        token = admin_token(setup, server)
        check_values(setup, server, token, expected)
    finally:
        server.stop()
    print(f"writer: ok ({len(last)} rows written by the application during the run, none lost)")
    setup.cleanup()


def scenario_kill():
    kills_wanted = int(os.environ.get("WARDEN_KILL_LOOP", "30"))
    setup = Setup(users=5, profiles=int(os.environ.get("WARDEN_KILL_PROFILES", "8000")), extra=1000, access_log=2000)
    total = sum(1 for rows in setup.expected["values"].values() for v in rows.values() if v is not None)
    check(total >= 20000, f"the fixture has only {total} values")
    rng = random.Random(int(os.environ.get("WARDEN_KILL_SEED", "11")))
    journal = os.path.join(setup.backup, "journal.log")
    arguments = [WARDEN, "migrate", "run", *setup.sources(), "--batch-size", "150", "--quiet"]
    kills = 0
    phases = {}

    def records():
        return open(journal).read().count("\n") if os.path.exists(journal) else 0

    while True:
        before = records()
        phase = "backup" if before == 0 or "backup-verified" not in open(journal).read() else "import and rewrite"
        process = subprocess.Popen(arguments, env=setup.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Kill at a random moment: in the backup now and then (it starts over), otherwise once this run
        # has recorded 1-4 steps of its own, a random fraction of a batch later.
        if phase == "backup" and rng.random() < 0.3:
            deadline, steps = time.time() + rng.uniform(0.2, 3.0), None
        else:
            deadline, steps = time.time() + 600, rng.randint(1, 4)
        while process.poll() is None and time.time() < deadline and (steps is None or records() < before + steps):
            time.sleep(0.01)
        if process.poll() is not None:
            check(process.returncode == 0, f"a run failed: {process.stderr.read().decode()[:2000]}")
            break
        time.sleep(rng.uniform(0, 0.15))
        if process.poll() is not None:
            check(process.returncode == 0, f"a run failed: {process.stderr.read().decode()[:2000]}")
            break
        process.kill()
        process.wait()
        kills += 1
        phases[phase] = phases.get(phase, 0) + 1
    print(f"kill: {kills} runs killed mid-migration ({phases}), then one ran to the end")
    check(kills >= kills_wanted, f"only {kills} kills landed during the migration (wanted {kills_wanted}); use a larger fixture")
    status = setup.warden("migrate", "status", "--backup-dir", setup.backup).stdout
    check("state: finished" in status, status)
    verify = json.loads(setup.warden("migrate", "verify", *setup.sources(), "--json").stdout)
    check(verify["ok"], f"verify after the kills: {json.dumps(verify)[:3000]}")
    check(sum(column["remaining_legacy"] for column in verify["columns"]) == 0, "values left legacy")
    check(verify["accounts"]["audit_entries"] == 2000, "access log")
    tail = setup.warden("audit", "tail", "--json", "--limit", "100000").stdout
    ids = [json.loads(line)["details"]["original_id"] for line in tail.splitlines() if '"imported.access_check"' in line]
    check(len(ids) == 2000 and len(set(ids)) == 2000, f"access log imported {len(ids)} times for 2000 rows ({len(set(ids))} distinct)")
    setup.warden("audit", "verify")
    server = Server(setup)
    try:
        token = admin_token(setup, server)
        count = check_values(setup, server, token)
    finally:
        server.stop()
    check(count >= 20000, f"only {count} values checked")
    print(f"kill: ok ({count} values, each opens once to its plaintext; none lost, none encrypted twice, none legacy)")
    setup.cleanup()


def scenario_errors():
    setup = Setup(users=2, profiles=20, extra=40, access_log=0)
    before = snapshot(setup)
    # A wrong legacy key: stops before any write, names the place, never the value or the key.
    env = dict(setup.env, DIGITAL_TWIN_ENCRYPTION_KEY=base64.b64encode(os.urandom(32)).decode())
    result = setup.warden("migrate", "run", *setup.sources(), "--quiet", env=env, expect=1)
    check("twin/learning_profiles/learning_style_encrypted row" in result.stderr and "nothing was changed" in result.stderr, result.stderr)
    check(snapshot(setup) == before, "a run with a wrong key changed data")
    shutil.rmtree(setup.backup)
    # A backup directory others can read.
    os.makedirs(setup.backup, mode=0o755)
    os.chmod(setup.backup, 0o755)
    result = setup.warden("migrate", "run", *setup.sources(), "--quiet", expect=1)
    check("readable by others" in result.stderr, result.stderr)
    os.chmod(setup.backup, 0o700)
    # A truncated token in one row: stops, names the row; with --skip-unreadable, recorded and skipped.
    connection = sqlite3.connect(setup.twin)
    token = connection.execute("SELECT value FROM extra_encrypted WHERE id = 12").fetchone()[0]
    connection.execute("UPDATE extra_encrypted SET value = ? WHERE id = 12", (token[:-10],))
    connection.commit()
    connection.close()
    before = snapshot(setup)
    result = setup.warden("migrate", "run", *setup.sources(), "--quiet", expect=1)
    check("twin/extra_encrypted/value row 12" in result.stderr, result.stderr)
    check((token[:-10].decode() if isinstance(token, bytes) else token[:-10]) not in result.stderr, "the value appeared in the error")
    check(snapshot(setup) == before, "a failed run changed data")
    shutil.rmtree(setup.backup)
    skipped = []
    # A read-only database: a read-only mount (root ignores file modes), else a read-only file.
    readonly = os.path.join(setup.root, "readonly")
    os.makedirs(readonly)
    mounted = subprocess.run(["mount", "--bind", setup.fixture, readonly], capture_output=True).returncode == 0 and \
        subprocess.run(["mount", "-o", "remount,ro,bind", readonly], capture_output=True).returncode == 0
    if mounted or os.geteuid() != 0:
        target = os.path.join(readonly, "digital_twin.db") if mounted else setup.twin
        if not mounted:
            os.chmod(setup.twin, 0o444)
        result = setup.warden("migrate", "run", "--twin-db", target, "--backup-dir", setup.backup, "--quiet", expect=1)
        check("twin" in result.stderr and "failed" in result.stderr or "read" in result.stderr, result.stderr)
        check(snapshot(setup) == before, "a run on a read-only database changed data")
        os.chmod(setup.twin, 0o644)
        shutil.rmtree(setup.backup, ignore_errors=True)
    else:
        skipped.append("read-only database (cannot mount read-only as root here)")
    if mounted:
        subprocess.run(["umount", readonly])
    # A full disk while writing the backup: a 64 KiB file system.
    full = os.path.join(setup.root, "full")
    os.makedirs(full)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full], capture_output=True).returncode == 0:
        try:
            os.chmod(full, 0o700)
            result = setup.warden("migrate", "run", *setup.sources()[:-2], "--backup-dir", os.path.join(full, "backup"), "--skip-unreadable", "--quiet", expect=1)
            check("cannot write the backup" in result.stderr and "nothing was changed" in result.stderr, result.stderr)
            check(snapshot(setup) == before, "a run whose backup failed changed data")
        finally:
            subprocess.run(["umount", full])
    else:
        skipped.append("full disk (cannot mount a small tmpfs here)")
    result = setup.warden("migrate", "run", *setup.sources(), "--skip-unreadable", "--json", expect=1)
    report = json.loads(result.stdout)
    extra = [column for column in report["columns"] if column["location"] == "twin/extra_encrypted/value"][0]
    check([failure["key"] for failure in extra["failures"]] == ["12"], f"skipped rows: {extra['failures']}")
    check(not report["ok"], "a run that skipped a row reported success")
    verify = setup.warden("migrate", "verify", *setup.sources(), "--json", expect=1)
    check(json.loads(verify.stdout)["failure_count"] == 1, verify.stdout[:2000])
    # The other schema that shares the original's file name (database_manager.py) holds no ciphertext.
    other = os.path.join(setup.root, "other_digital_twin.db")
    connection = sqlite3.connect(other)
    connection.executescript("""
        CREATE TABLE learning_profiles (id INTEGER PRIMARY KEY, student_id TEXT UNIQUE NOT NULL, name TEXT, age INTEGER,
          learning_style TEXT, preferred_difficulty TEXT, knowledge_domains TEXT, learning_goals TEXT, privacy_settings TEXT);
        CREATE TABLE schema_version (version INTEGER);
        INSERT INTO learning_profiles (student_id, name, age, learning_style, knowledge_domains) VALUES ('s1', 'Ada', 12, 'visual', '["math"]');
    """)
    connection.close()
    result = setup.warden("migrate", "plan", "--twin-db", other)
    check("database_manager.py" in result.stdout and "plan: OK" in result.stdout, result.stdout)
    # A database that is neither, with no columns named: refused with what to do.
    result = setup.warden("migrate", "plan", "--database", os.path.join(setup.data, "warden.db"), expect=1)
    check("--column" in result.stderr or "column" in result.stderr, result.stderr)
    print("errors: ok" + (f" (skipped: {'; '.join(skipped)})" if skipped else ""))
    setup.cleanup()


def scenario_meta():
    """--keep-twin-meta seals the digital-twin wrapper whole; the default seals its data string."""
    setup = Setup(users=1, profiles=4, extra=0, access_log=0)
    setup.warden("migrate", "run", "--twin-db", setup.twin, "--backup-dir", setup.backup, "--keep-twin-meta", "--quiet")
    rows = cells(setup.twin, "learning_profiles", "learning_style_encrypted")
    key, cell = next((k, v) for k, v in rows.items() if v and setup.expected["values"]["twin/learning_profiles/learning_style_encrypted"][k] not in (None, "auditory"))
    opened = setup.warden("decrypt", "--context", f"learning_profiles/learning_style_encrypted/{key}", input=to_text_envelope(cell)).stdout
    wrapper = json.loads(opened)
    check(wrapper["data"] == setup.expected["values"]["twin/learning_profiles/learning_style_encrypted"][key], opened)
    check(wrapper["meta"]["field"] == "learning_style" and "compliance_flags" in wrapper["meta"], opened)
    # The plaintext left in a column is sealed as it is (it had no wrapper).
    plain_key = next(k for k, v in setup.expected["values"]["twin/learning_profiles/learning_style_encrypted"].items() if v == "auditory")
    opened = setup.warden("decrypt", "--context", f"learning_profiles/learning_style_encrypted/{plain_key}", input=to_text_envelope(rows[plain_key])).stdout
    check(opened == "auditory", opened)
    print("meta: ok")
    setup.cleanup()


def main():
    scenarios = {"full": scenario_full, "writer": scenario_writer, "kill": scenario_kill, "errors": scenario_errors, "meta": scenario_meta}
    check(SCENARIO in scenarios, f"unknown scenario {SCENARIO}")
    scenarios[SCENARIO]()


if __name__ == "__main__":
    main()
