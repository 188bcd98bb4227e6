#!/usr/bin/env python3
"""Judges a chaos history (scripts/chaos/harness.py): exits 1 on any violation.

    checker.py RUN_DIR          # RUN_DIR/history.jsonl and RUN_DIR/audit.jsonl; writes RUN_DIR/check.json
    checker.py --self-test      # a synthetic history with one violation of each kind: each must be found

Invariants (docs/reliability.md):

  revoked_accepted     no access or refresh token of a session is accepted (2xx) by any node on a request
                       that started after the acknowledged end of a revocation covering it: DELETE
                       /auth/sessions/{id}, logout-all, an account disable, or a refresh answered
                       `refresh_token_reused` (which ends every session of the account); and no login of a
                       disabled account succeeds between the disable's acknowledgement and the next enable.
  refresh_twice        no refresh token is accepted twice.
  ciphertext_opens     every acknowledged encryption opens on every node at the end, to the same plaintext
                       (and no decryption ever returns another plaintext).
  write_audited        every acknowledged write (login, MFA login, revoke, logout-all, disable, enable,
                       refresh reuse) has an audit entry with its request id; `warden audit verify` passed.
  only_503             no 5xx other than 503.
  unavailable_in_fault 503 and client timeouts only while a fault is active or within 5 s after it ends,
                       on the nodes it touches (a Redis, PostgreSQL or cluster fault touches every node).
  connection_errors    connection refused or reset only on the node being killed, during its own fault.
  recovery             after each fault, the last unavailable answer within 5 s of its end.
  live_refused         no live session refused (401) unless a fault can explain it: the session was created
                       after the snapshot Redis was rolled back to, a Redis Cluster fault (asynchronous
                       replication may lose the newest writes) came after it was created, or the token was
                       issued or checked by the node whose clock was stepped, while it was.
  keys_known           while both keys rotate under the load (`warden keys rotate`, `--signing-key`): no
                       node ever meets a field-key version or signing key it has not loaded (each node's
                       `warden_key_unknown_reloads`, read from /metrics every few seconds, is present and
                       stays 0, and every node is read); no decryption during the load is refused (4xx
                       other than 401); every rotation command ends within 60 s and, when started outside
                       a dependency fault, succeeds; at the end no key is still published (not promoted)
                       more than 160 s after it was made.
"""

import collections
import datetime
import json
import os
import sys

GRACE = 5.0
PROMOTED_WITHIN = 160.0  # seconds: propagation (60) + a dead node's liveness (90) + slack
GLOBAL_FAULTS = {"redis_pause", "redis_rollback", "pg_restart", "cluster_failover", "cluster_kill_primary"}
CLUSTER_FAULTS = {"cluster_failover", "cluster_kill_primary", "redis_pause"}
SESSION_OPS = {"list", "revoke", "logout_all", "probe", "refresh", "refresh_reuse"}
AUDITED_OPS = {"login", "mfa_login", "revoke", "logout_all", "disable", "enable"}
INVARIANTS = ["revoked_accepted", "refresh_twice", "ciphertext_opens", "write_audited", "only_503",
              "unavailable_in_fault", "connection_errors", "recovery", "live_refused", "keys_known"]


def crc16(data):
    """CRC16-XMODEM, as Redis Cluster hashes keys."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot_of(account):
    """The slot of an account's keys: Warden's keys are `<prefix>:{<account>}:…`, so the hash tag is the id."""
    return crc16(account.lower().encode()) % 16384


def in_slots(slot, ranges):
    for r in ranges:
        lo, _, hi = r.partition("-")
        if int(lo) <= slot <= int(hi or lo):
            return True
    return False


def ok(status):
    return status is not None and 200 <= status < 300


def unavailable(r):
    return r.get("status") == 503 or r.get("err") == "timeout"


def conn_error(r):
    return r.get("err") in ("refused", "reset") or (r.get("err") or "").startswith("oserror")


def check(history, audit):
    ops = [r for r in history if r["kind"] == "op"]
    issued = [r for r in history if r["kind"] == "issued"]
    cipher = [r for r in history if r["kind"] == "ciphertext"]
    setup = next((r for r in history if r["kind"] == "setup"), {})
    redis_mode = setup.get("redis", "single")
    faults = []
    open_faults = {}
    for r in history:
        if r["kind"] == "fault_start":
            open_faults[(r["fault"], str(r.get("target")))] = r
        elif r["kind"] == "fault_end":
            s = open_faults.pop((r["fault"], str(r.get("target"))), None)
            if s:
                faults.append({"fault": r["fault"], "target": r.get("target"), "start": s["m"], "end": r["m"], "extra": {k: s.get(k) for k in ("seconds", "snapshot_age") if k in s}, "slots": s.get("slots")})
    last_m = max((r.get("m1", r.get("m", 0)) for r in history), default=0)
    for (name, target), s in open_faults.items():  # a fault the run ended inside
        faults.append({"fault": name, "target": s.get("target"), "start": s["m"], "end": last_m, "extra": {}})
    faults.sort(key=lambda f: f["start"])
    snapshots = [r["m"] for r in history if r["kind"] == "redis_snapshot"]

    violations = collections.defaultdict(list)
    checked = collections.Counter()
    notes = collections.Counter()

    # Sessions: first issue = creation; token fingerprints -> session.
    session = {}
    token_info = {}
    started = {r["rid"]: r["m0"] for r in ops if r.get("rid")}
    for r in sorted(issued, key=lambda x: x["m"]):
        if r["sid"] not in session:
            # created: the login's answer; written: no earlier than the login's start.
            session[r["sid"]] = {"account": r["account"], "created": r["m"], "node": r["node"], "login_start": started.get(r.get("rid"), r["m"])}
        token_info[r["tok"]] = r
        token_info[r["rtok"]] = r

    def sid_of(r):
        if r.get("op") in ("refresh", "refresh_reuse") and r.get("rtok") in token_info:
            return token_info[r["rtok"]]["sid"]
        if r.get("tok") in token_info:
            return token_info[r["tok"]]["sid"]
        return r.get("sid")

    # Revocations: (acknowledged end, start, session ids covered or account + creation bound, what).
    revocations = []  # dicts: ack, start, sid or (account, before), op, status
    maybe_revoked = collections.defaultdict(list)  # sid -> start times of any attempt that may have ended it
    account_cut = collections.defaultdict(list)  # account -> (start, end) of any attempt that may have ended all
    for r in ops:
        op, st = r["op"], r.get("status")
        possibly = ok(st) or st is None or st >= 500
        if op == "revoke":
            if possibly:
                maybe_revoked[r["target"]].append(r["m0"])
            if ok(st):
                revocations.append({"ack": r["m1"], "start": r["m0"], "sid": r["target"], "op": op})
        elif op == "logout_all" or (op == "disable") or ((op in ("refresh", "refresh_reuse")) and st == 401 and r.get("code") == "refresh_token_reused"):
            acct = r.get("target_account") if op == "disable" else r["account"]
            if possibly or st == 401:
                account_cut[acct].append(r["m0"])
            if ok(st) or st == 401:
                revocations.append({"ack": r["m1"], "start": r["m0"], "account": acct, "op": op if st != 401 else "refresh_reuse"})

    def covered(sid, at):
        """The acknowledged revocation that covers `sid` for a request starting at `at`, if any."""
        s = session.get(sid)
        for e in revocations:
            if e["ack"] >= at:
                continue
            if e.get("sid") == sid:
                return e
            if s and e.get("account") == s["account"] and s["created"] < e["start"]:
                return e
        return None

    # Disabled windows: acknowledged disable .. start of the next enable attempt.
    disabled = collections.defaultdict(list)
    by_target = collections.defaultdict(list)
    for r in ops:
        if r["op"] in ("disable", "enable"):
            by_target[r["target_account"]].append(r)
    for acct, rs in by_target.items():
        rs.sort(key=lambda x: x["m0"])
        for i, r in enumerate(rs):
            if r["op"] == "disable" and ok(r["status"]):
                nxt = next((x["m0"] for x in rs[i + 1:] if x["op"] == "enable"), float("inf"))
                disabled[acct].append((r["m1"], nxt, r))

    # 1. revoked_accepted
    for r in ops:
        if r["op"] in SESSION_OPS:
            sid = sid_of(r)
            if sid is None:
                continue
            checked["revoked_accepted"] += 1
            if ok(r["status"]):
                e = covered(sid, r["m0"])
                if e:
                    violations["revoked_accepted"].append({"request": r, "revocation": e, "after_s": round(r["m0"] - e["ack"], 3)})
        elif r["op"] in ("login", "mfa_login", "login_disabled"):
            checked["revoked_accepted"] += 1
            if ok(r["status"]):
                for start, end, d in disabled.get(r["account"], []):
                    if start < r["m0"] < end:
                        # An MFA login's password step may have come before the disable; the check is the answer.
                        violations["revoked_accepted"].append({"request": r, "disabled_by": d, "after_s": round(r["m0"] - start, 3)})
                        break

    # 2. refresh_twice
    accepted = collections.defaultdict(list)
    for r in ops:
        if r["op"] in ("refresh", "refresh_reuse") and r.get("rtok"):
            checked["refresh_twice"] += 1
            if ok(r["status"]):
                accepted[r["rtok"]].append(r)
    for rtok, rs in accepted.items():
        if len(rs) > 1:
            violations["refresh_twice"].append({"rtok": rtok, "requests": rs})

    # 3. ciphertext_opens
    opened = collections.defaultdict(set)
    nodes = set(range(len(setup.get("nodes", [0, 1, 2]))))
    for r in ops:
        if r["op"] in ("decrypt", "final_decrypt") and ok(r["status"]):
            if r.get("got") != r.get("pt"):
                violations["ciphertext_opens"].append({"request": r, "why": "another plaintext"})
            elif r["op"] == "final_decrypt":
                opened[r["ct"]].add(r["node"])
    for c in cipher:
        checked["ciphertext_opens"] += 1
        missing = nodes - opened.get(c["ct"], set())
        if missing:
            violations["ciphertext_opens"].append({"ciphertext": c, "why": f"not opened on node(s) {sorted(missing)}"})

    # 4. write_audited
    audited = {}
    for e in audit:
        if e.get("request_id"):
            audited.setdefault(e["request_id"], []).append(e.get("action"))
    issued_rids = {r.get("rid") for r in issued}
    actions = collections.defaultdict(collections.Counter)
    for r in ops:
        write = (r["op"] in AUDITED_OPS and ok(r["status"]) and (r["op"] not in ("login", "mfa_login") or r.get("rid") in issued_rids)) \
            or (r["op"] in ("refresh", "refresh_reuse") and r.get("code") == "refresh_token_reused")
        if not write:
            continue
        checked["write_audited"] += 1
        if r.get("rid") not in audited:
            violations["write_audited"].append({"request": r})
        else:
            for a in audited[r["rid"]]:
                actions[r["op"]][a] += 1
    verify = [r for r in history if r["kind"] == "audit_verify"]
    checked["write_audited"] += 1
    if not verify or verify[-1]["status"] != 0:
        violations["write_audited"].append({"audit_verify": verify[-1] if verify else "not run"})

    # 5-7. availability
    def in_scope(f, node):
        return f["fault"] in GLOBAL_FAULTS or f["target"] == node

    for r in ops:
        st = r.get("status")
        checked["only_503"] += 1
        if st is not None and st >= 500 and st != 503:
            violations["only_503"].append({"request": r})
        if unavailable(r):
            checked["unavailable_in_fault"] += 1
            if not any(in_scope(f, r["node"]) and r["m0"] <= f["end"] + GRACE and r["m1"] >= f["start"] for f in faults):
                violations["unavailable_in_fault"].append({"request": r})
        if conn_error(r):
            checked["connection_errors"] += 1
            if not any(f["fault"] == "node_kill" and f["target"] == r["node"] and r["m0"] <= f["end"] + 1 and r["m1"] >= f["start"] for f in faults):
                violations["connection_errors"].append({"request": r})

    # 8. recovery
    recoveries = []
    for i, f in enumerate(faults):
        checked["recovery"] += 1
        nxt = faults[i + 1]["start"] if i + 1 < len(faults) else float("inf")
        bad = [r for r in ops if in_scope(f, r["node"]) and (unavailable(r) or conn_error(r)) and r["m1"] >= f["start"] and r["m1"] < min(nxt, f["end"] + 60)]
        good_after = [r for r in ops if in_scope(f, r["node"]) and ok(r["status"]) and r["m0"] >= f["end"]]
        last_bad = max((r["m1"] for r in bad), default=None)
        rec = max(0.0, last_bad - f["end"]) if last_bad is not None else 0.0
        first_ok = min((r["m1"] for r in good_after), default=None)
        item = {"fault": f["fault"], "target": f["target"], "duration_s": round(f["end"] - f["start"], 2), "unavailable_answers": len(bad),
                "recovery_s": round(rec, 2), "first_success_after_end_s": None if first_ok is None else round(first_ok - f["end"], 2), **f["extra"]}
        recoveries.append(item)
        if rec > GRACE or (first_ok is not None and first_ok - f["end"] > GRACE) or (first_ok is None and nxt == float("inf") and good_after == [] and any(r["m0"] > f["end"] + GRACE for r in ops)):
            violations["recovery"].append(item)

    # 9. live_refused
    excused = collections.Counter()
    cluster_refusals = []
    cut_on_node = collections.defaultdict(list)  # (account, node) -> starts of revocations of every session
    for r in ops:
        st = r.get("status")
        if r["op"] in ("logout_all", "disable") and (ok(st) or st is None or st >= 500) \
                or (r["op"] in ("refresh", "refresh_reuse") and r.get("code") == "refresh_token_reused"):
            cut_on_node[(r.get("target_account") or r["account"], r["node"])].append(r["m0"])
    for r in ops:
        if r["op"] not in ("list", "refresh", "revoke", "logout_all") or r.get("status") != 401:
            continue
        sid = sid_of(r)
        s = session.get(sid)
        if s is None:
            continue
        checked["live_refused"] += 1
        if any(m < r["m1"] for m in maybe_revoked.get(sid, [])) or any(m < r["m1"] and s["created"] < m + 1 for m in account_cut.get(s["account"], [])):
            notes["refusal after a revocation attempt (not live)"] += 1
            continue
        tok = token_info.get(r.get("rtok") if r["op"] == "refresh" else r.get("tok"))
        reason = None
        if tok and r["m0"] - tok["m"] > 14.5 * 60 and r["op"] != "refresh":
            reason = "access token expired"
        for f in faults:
            if reason:
                break
            if f["fault"] == "redis_rollback" and f["start"] < r["m1"]:
                snap = max((m for m in snapshots if m < f["start"]), default=None)
                # Written to the instance that was lost: after the snapshot, and by a login that began
                # before the rollback (its answer may come after it).
                if snap is not None and snap - 1 < s["created"] and s["login_start"] < f["start"]:
                    reason = "created after the Redis snapshot rolled back to"
            elif redis_mode == "cluster" and f["fault"] in CLUSTER_FAULTS and s["created"] < f["end"] and f["start"] < r["m1"] \
                    and (f.get("slots") is None or in_slots(slot_of(s["account"]), f["slots"])):
                # Only the accounts whose slot the failed primary served (when the run recorded its slots).
                reason = f"Redis Cluster {f['fault']} on the account's primary (asynchronous replication)"
                cluster_refusals.append({"fault": f["fault"], "fault_start": f["start"], "created_before_fault_s": round(f["start"] - s["created"], 3),
                                         "refused_after_fault_end_s": round(r["m0"] - f["end"], 3), "op": r["op"], "node": r["node"],
                                         "account": s["account"], "slot": slot_of(s["account"]), "sid": sid})
            elif f["fault"] == "clock_skew":
                if r["node"] == f["target"] and r["m0"] <= f["end"] + GRACE and r["m1"] >= f["start"]:
                    reason = "checked by the node whose clock was stepped"
                elif tok and tok["node"] == f["target"] and f["start"] <= tok["m"] <= f["end"] + GRACE and r["m0"] < tok["m"] + abs(f["extra"].get("seconds") or 120) + 10:
                    reason = "token issued by the node whose clock was stepped"
        if reason:
            excused[reason] += 1
            continue
        # Not explained by a fault: a violation. A diagnosis, never an excuse: a revocation of the account
        # (logout-all, disable, reuse) run by a node whose clock was ahead once wrote the account's
        # watermark ahead too, and sessions created before real time caught up were refused.
        diagnosis = None
        for f in faults:
            if f["fault"] == "clock_skew" and (f["extra"].get("seconds") or 0) > 0:
                ahead = f["extra"]["seconds"]
                for m in cut_on_node.get((s["account"], f["target"]), []):
                    if f["start"] <= m <= f["end"] and m < s["created"] < m + ahead + 1:
                        diagnosis = f"account watermark set {ahead} s ahead by a revocation on node {f['target']}"
        item = {"request": r, "session_created": s["created"]}
        if diagnosis:
            item["diagnosis"] = diagnosis
        violations["live_refused"].append(item)

    # 10. keys_known
    rotations = [r for r in history if r["kind"] == "key_rotation"]
    ended = {(r["key"], r["m0"]) for r in rotations}
    for r in history:
        if r["kind"] == "key_rotation_start":
            checked["keys_known"] += 1
            if (r["key"], r["m0"]) not in ended:
                violations["keys_known"].append({"rotation": {"key": r["key"], "m0": r["m0"]}, "why": "started and never ended"})
    scrapes = [r for r in history if r["kind"] == "key_metrics"]
    worst = {}  # (node, pid) -> the highest counts read
    for r in scrapes:
        checked["keys_known"] += 1
        if r.get("field") is None or r.get("signing") is None:
            violations["keys_known"].append({"scrape": r, "why": "warden_key_unknown_reloads missing from /metrics"})
        key = (r["node"], r.get("pid"))
        w = worst.setdefault(key, {"node": r["node"], "pid": r.get("pid"), "field": 0, "signing": 0})
        w["field"] = max(w["field"], r.get("field") or 0)
        w["signing"] = max(w["signing"], r.get("signing") or 0)
    for w in worst.values():
        if w["field"] or w["signing"]:
            violations["keys_known"].append({"unknown_key_reloads": w})
    if rotations:
        for n in sorted(nodes - {r["node"] for r in scrapes}):
            violations["keys_known"].append({"node": n, "why": "its unknown-key counts were never read"})
        state = next((r for r in history if r["kind"] == "key_state"), None)
        checked["keys_known"] += 1
        if not state or state.get("field") is None:
            violations["keys_known"].append({"key_state": state, "why": "the keys' state at the end was not read"})
        else:
            # Every published key is promoted within the propagation interval (60 s) plus the liveness
            # window (90 s) a dead node's registration lasts; 10 s of slack.
            for v in state["field"].get("versions", []):
                age = state["now"] - datetime.datetime.fromisoformat(v["created"].replace("Z", "+00:00")).timestamp()
                if v.get("state") == "published" and age > PROMOTED_WITHIN:
                    violations["keys_known"].append({"field_version": v, "age_s": round(age), "why": "published and never promoted"})
            for k in state.get("signing", []):
                age = state["now"] - k["created_ms"] / 1000
                if k["signs_from_ms"] is None and k["retired_ms"] is None and age > PROMOTED_WITHIN:
                    violations["keys_known"].append({"signing_key": k["kid"], "age_s": round(age), "why": "published and never promoted"})
    for r in ops:
        if r["op"] == "decrypt":
            checked["keys_known"] += 1
            st = r.get("status")
            if st is not None and 400 <= st < 500 and st != 401:
                violations["keys_known"].append({"request": r, "why": "a decryption during the load was refused"})
    for r in rotations:
        checked["keys_known"] += 1
        if r["status"] is None:
            violations["keys_known"].append({"rotation": {k: r.get(k) for k in ("key", "m0", "m1", "error")}, "why": "did not finish within 60 s"})
        elif r["status"] != 0 and not any(f["fault"] in GLOBAL_FAULTS and r["m0"] <= f["end"] + GRACE and r["m1"] >= f["start"] - GRACE for f in faults):
            violations["keys_known"].append({"rotation": {k: r.get(k) for k in ("key", "m0", "m1", "status", "error")}, "why": "failed outside a fault"})
    rotation_counts = collections.Counter((r["key"], r.get("result") if r["status"] == 0 else f"exit {r['status']}") for r in rotations)
    final_state = next((r for r in history if r["kind"] == "key_state"), {}) or {}
    final_primary = (final_state.get("field") or {}).get("primary_version")
    promoted_kids = len([k for k in final_state.get("signing", []) if k.get("signs_from_ms") is not None])
    versions = sorted({r.get("key_version") for r in cipher if r.get("key_version") is not None})

    per_op = collections.Counter()
    for r in ops:
        per_op[(r["op"], r.get("status") if r.get("status") is not None else r.get("err"), r.get("code"))] += 1
    load = [r for r in history if r["kind"] in ("load_start", "load_end")]
    duration = (load[-1]["m"] - load[0]["m"]) if len(load) == 2 else None
    return {
        "violations": {k: violations.get(k, []) for k in INVARIANTS},
        "checked": dict(checked),
        "per_op": per_op,
        "recoveries": recoveries,
        "excused_refusals": dict(excused),
        "cluster_refusals": cluster_refusals,
        "notes": dict(notes),
        "audit_actions": {k: dict(v) for k, v in actions.items()},
        "faults": faults,
        "duration_s": duration,
        "harness_errors": [r.get("text") for r in history if r["kind"] == "harness_error"],
        "skipped": setup.get("skipped", {}),
        "load_ops": len([r for r in ops if r["op"] not in ("final_decrypt",)]),
        "rotations": {f"{k} {v}": n for (k, v), n in sorted(rotation_counts.items())},
        "field_key_versions_sealed": versions,
        "key_scrapes": len(scrapes),
        "final_primary_version": final_primary,
        "signing_keys_promoted": promoted_kids,
    }


def short(v):
    r = v.get("request")
    if r:
        keep = {k: r.get(k) for k in ("op", "node", "status", "err", "code", "rid", "sid", "target", "account") if r.get(k) is not None}
        keep["m0"] = round(r["m0"], 3)
        rest = {k: val for k, val in v.items() if k != "request"}
        if "revocation" in rest:
            e = rest["revocation"]
            rest["revocation"] = {"op": e["op"], "ack": round(e["ack"], 3)}
        if "disabled_by" in rest:
            rest["disabled_by"] = {"rid": rest["disabled_by"].get("rid"), "ack": round(rest["disabled_by"]["m1"], 3)}
        return json.dumps({**keep, **rest}, default=str)
    return json.dumps(v, default=str)[:400]


def report(result, out=sys.stdout):
    p = lambda *a: print(*a, file=out)
    d = result["duration_s"]
    p(f"load: {result['load_ops']} requests" + (f" in {d:.0f} s ({result['load_ops'] / d:.0f}/s)" if d else ""))
    p("\nper op / answer:")
    per_op = result["per_op"]
    for (op, st, code), n in sorted(per_op.items(), key=lambda x: (x[0][0], str(x[0][1]), str(x[0][2]))):
        rate = f"  {n / d:6.1f}/s" if d and op not in ("final_decrypt",) else ""
        p(f"  {op:16} {str(st):9} {code or '':24} {n:7}{rate}")
    p("\nfaults (recovery = last unavailable answer after the fault's end):")
    for f in result["recoveries"]:
        p(f"  {f['fault']:22} target {str(f['target']):10} lasted {f['duration_s']:6.2f} s  unavailable answers {f['unavailable_answers']:5}  "
          f"recovery {f['recovery_s']:5.2f} s  first success after end {f['first_success_after_end_s']} s")
    if result.get("rotations"):
        vs = result["field_key_versions_sealed"]
        p("\nkey rotations during the load: " + ", ".join(f"{k} {n}" for k, n in result["rotations"].items())
          + (f"; ciphertexts sealed under versions {vs[0]}..{vs[-1]} ({len(vs)} versions)" if vs else "")
          + f"; {result['key_scrapes']} reads of the nodes' unknown-key counts"
          + f"; at the end field primary version {result['final_primary_version']}, {result['signing_keys_promoted']} signing keys promoted and still kept")
    if result["skipped"]:
        p("\nskipped:")
        for k, v in result["skipped"].items():
            p(f"  {k}: {v}")
    if result["audit_actions"]:
        p("\naudit entries matched by request id:")
        for op, acts in sorted(result["audit_actions"].items()):
            p(f"  {op:12} {', '.join(f'{a} ({n})' for a, n in sorted(acts.items()))}")
    if result["excused_refusals"] or result["notes"]:
        p("\nrefusals explained:")
        for k, v in {**result["excused_refusals"], **result["notes"]}.items():
            p(f"  {v:6}  {k}")
    if result["harness_errors"]:
        p(f"\nharness errors ({len(result['harness_errors'])}):")
        for t in result["harness_errors"][:10]:
            p("  " + t)
    diagnosed = collections.Counter(v.get("diagnosis", "").split(" by ")[0] for v in result["violations"]["live_refused"] if v.get("diagnosis"))
    if diagnosed:
        p("\nlive_refused diagnosed:")
        for k, n in diagnosed.items():
            p(f"  {n:6}  {k}")
    p("\ninvariants:")
    total = 0
    for k in INVARIANTS:
        vs = result["violations"][k]
        total += len(vs)
        p(f"  {k:22} checked {result['checked'].get(k, 0):7}  violations {len(vs)}")
        for v in vs[:8]:
            p("      " + short(v))
        if len(vs) > 8:
            p(f"      … {len(vs) - 8} more in check.json")
    p(f"\n{'FAILED' if total else 'PASSED'}: {total} violation(s)")
    return total


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        from selftest import self_test
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = sys.argv[1]
    history = load(os.path.join(run, "history.jsonl"))
    audit = load(os.path.join(run, "audit.jsonl"))
    result = check(history, audit)
    total = report(result)
    with open(os.path.join(run, "check.json"), "w") as f:
        json.dump({**result, "per_op": [[list(k), v] for k, v in result["per_op"].items()]}, f, indent=1, default=str)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
