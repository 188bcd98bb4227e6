"""The checker's self-test: a clean synthetic history, then one violation of each kind; each must be found."""

from checker import check, short


def synthetic():
    h = []
    t = [100.0]

    def op(op, node, status, dur=0.01, **kw):
        r = {"kind": "op", "op": op, "node": node, "m0": t[0], "m1": t[0] + dur, "w0": 0, "w1": 0, "status": status, "err": kw.pop("err", None),
             "rid": kw.pop("rid", f"r{len(h)}"), **kw}
        h.append(r)
        t[0] += dur + 0.01
        return r

    def issue(rec, account, sid, tok, rtok, node):
        h.append({"kind": "issued", "m": rec["m1"], "account": account, "sid": sid, "tok": tok, "rtok": rtok, "node": node, "by": rec["op"], "rid": rec["rid"]})

    h.append({"kind": "setup", "m": 0, "redis": "single", "nodes": ["a", "b", "c"], "skipped": {}})
    h.append({"kind": "load_start", "m": 99})
    audit = []
    # A login, a refresh, a list, a revocation acknowledged, then a probe refused.
    r = op("login", 0, 200, account="A"); issue(r, "A", "s1", "t1", "f1", 0); audit.append({"request_id": r["rid"], "action": "login.succeeded"})
    r = op("refresh", 1, 200, account="A", sid="s1", rtok="f1"); issue(r, "A", "s1", "t2", "f2", 1)
    op("list", 2, 200, account="A", sid="s1", tok="t2")
    r = op("login", 0, 200, account="A"); issue(r, "A", "s2", "t3", "f3", 0); audit.append({"request_id": r["rid"], "action": "login.succeeded"})
    r = op("revoke", 1, 204, account="A", sid="s2", tok="t3", target="s1"); audit.append({"request_id": r["rid"], "action": "session.revoked"})
    op("probe", 2, 401, account="A", sid="s1", tok="t2", code="invalid_token")
    # Encryption, opened on every node at the end.
    r = op("encrypt", 0, 200, account="P", ct="c1", pt="p1")
    h.append({"kind": "ciphertext", "m": r["m1"], "ct": "c1", "pt": "p1"})
    # A fault with a 503 inside it and one just after (within the grace).
    h.append({"kind": "fault_start", "m": t[0], "fault": "redis_pause", "target": "redis"})
    op("list", 0, 503, dur=2.0, account="A", sid="s2", tok="t3", code="unavailable")
    h.append({"kind": "fault_end", "m": t[0], "fault": "redis_pause", "target": "redis"})
    t[0] += 2
    op("list", 1, 503, account="A", sid="s2", tok="t3", code="unavailable")
    op("list", 1, 200, account="A", sid="s2", tok="t3")
    # A node killed: refused on it, during its fault.
    h.append({"kind": "fault_start", "m": t[0], "fault": "node_kill", "target": 2})
    op("list", 2, None, err="refused", account="A", sid="s2", tok="t3")
    h.append({"kind": "fault_end", "m": t[0] + 1, "fault": "node_kill", "target": 2})
    t[0] += 2
    op("list", 2, 200, account="A", sid="s2", tok="t3")
    # Both keys rotated, with every node's unknown-key counts read and 0.
    h.append({"kind": "key_rotation", "m": t[0], "m0": t[0], "m1": t[0] + 0.5, "key": "field", "status": 0, "result": "rotated"})
    h.append({"kind": "key_rotation", "m": t[0], "m0": t[0] + 0.5, "m1": t[0] + 1, "key": "signing", "status": 0, "result": "rotated"})
    for n in range(3):
        h.append({"kind": "key_metrics", "m": t[0] + 1, "node": n, "pid": 10 + n, "field": 0.0, "signing": 0.0})
    # At the end: version 2 primary, a signing key promoted, and one published 100 s ago (still in time).
    h.append({"kind": "key_state", "m": t[0] + 2, "now": 1_800_000_200.0,
              "field": {"primary_version": 2, "versions": [{"number": 1, "state": "active", "created": "2027-01-15T07:58:20Z"},
                                                           {"number": 2, "state": "primary", "created": "2027-01-15T08:00:00Z"}]},
              "signing": [{"kid": "k1", "created_ms": 1_799_999_000_000, "signs_from_ms": 1_799_999_000_000, "retired_ms": None},
                          {"kid": "k2", "created_ms": 1_800_000_100_000, "signs_from_ms": None, "retired_ms": None}]})
    t[0] += 10
    h.append({"kind": "load_end", "m": t[0]})
    for n in range(3):
        op("final_decrypt", n, 200, account="P", ct="c1", pt="p1", got="p1")
    h.append({"kind": "audit_verify", "m": t[0], "status": 0})
    return h, audit, op, issue, t


def self_test():
    h, audit, _, _, _ = synthetic()
    clean = check(h, audit)
    found = {k: len(v) for k, v in clean["violations"].items() if v}
    assert not found, f"the clean history gave violations: {found}\n" + "\n".join(short(v) for vs in clean["violations"].values() for v in vs)

    def variant(name, mutate):
        h, audit, op, issue, t = synthetic()
        mutate(h, audit, op, issue, t)
        res = check(h, audit)
        got = {k for k, v in res["violations"].items() if v}
        assert name in got, f"{name}: not found (found {sorted(got)})"
        others = got - {name}
        print(f"  {name:22} found" + (f" (also {sorted(others)})" if others else ""))
        return res

    # A revoked session's token accepted after the revocation's acknowledgement (on another node).
    variant("revoked_accepted", lambda h, a, op, issue, t: op("list", 0, 200, account="A", sid="s1", tok="t2"))
    # A logout-all acknowledged, then an older session accepted.
    def logout_all(h, a, op, issue, t):
        r = op("logout_all", 0, 200, account="A", sid="s2", tok="t3"); a.append({"request_id": r["rid"], "action": "session.revoked_all"})
        op("list", 1, 200, account="A", sid="s2", tok="t3")
    variant("revoked_accepted", logout_all)
    # A disabled account logs in.
    def disabled(h, a, op, issue, t):
        r = op("disable", 0, 200, account="R", target_account="A"); a.append({"request_id": r["rid"], "action": "account.disabled"})
        r = op("login", 1, 200, account="A"); issue(r, "A", "s9", "t9", "f9", 1); a.append({"request_id": r["rid"], "action": "login.succeeded"})
    variant("revoked_accepted", disabled)
    # The same refresh token accepted twice.
    def twice(h, a, op, issue, t):
        r = op("refresh", 2, 200, account="A", sid="s1", rtok="f1"); issue(r, "A", "s1", "t4", "f4", 2)
    res = variant("refresh_twice", twice)
    # A ciphertext that does not open on one node, and one that opens to another plaintext.
    def not_opened(h, a, op, issue, t):
        h[:] = [r for r in h if not (r.get("op") == "final_decrypt" and r["node"] == 1)]
    variant("ciphertext_opens", not_opened)
    variant("ciphertext_opens", lambda h, a, op, issue, t: op("decrypt", 1, 200, account="P", ct="c1", pt="p1", got="p2"))
    # An acknowledged revocation with no audit entry; and a failed verify.
    def unaudited(h, a, op, issue, t):
        op("revoke", 0, 204, account="A", sid="s2", tok="t3", target="s2")
    variant("write_audited", unaudited)
    def verify_failed(h, a, op, issue, t):
        for r in h:
            if r["kind"] == "audit_verify":
                r["status"] = 1
    variant("write_audited", verify_failed)
    # A 500.
    variant("only_503", lambda h, a, op, issue, t: op("list", 0, 500, account="A", sid="s2", tok="t3"))
    # A 503 far from any fault.
    variant("unavailable_in_fault", lambda h, a, op, issue, t: op("list", 0, 503, account="A", sid="s2", tok="t3", code="unavailable"))
    # Connection refused on a node that was not killed.
    def refused(h, a, op, issue, t):
        i = next(i for i, r in enumerate(h) if r.get("err") == "refused")
        h[i] = {**h[i], "node": 0}
    variant("connection_errors", refused)
    # A fault after which the service stays unavailable for 8 s.
    def slow(h, a, op, issue, t):
        h.append({"kind": "fault_start", "m": t[0], "fault": "pg_restart", "target": "postgres"})
        h.append({"kind": "fault_end", "m": t[0] + 1, "fault": "pg_restart", "target": "postgres"})
        t[0] += 1
        op("list", 0, 503, dur=8.0, account="A", sid="s2", tok="t3", code="unavailable")
        op("list", 0, 200, account="A", sid="s2", tok="t3")
    variant("recovery", slow)
    # A live session refused with no fault to explain it.
    variant("live_refused", lambda h, a, op, issue, t: op("list", 0, 401, account="A", sid="s2", tok="t3", code="invalid_token"))
    # A node met a key version it had not loaded; a decryption refused during the load; a rotation that
    # failed with no fault to explain it.
    variant("keys_known", lambda h, a, op, issue, t: h.append({"kind": "key_metrics", "m": t[0], "node": 1, "pid": 11, "field": 1.0, "signing": 0.0}))
    variant("keys_known", lambda h, a, op, issue, t: h.append({"kind": "key_metrics", "m": t[0], "node": 2, "pid": 12, "field": 0.0, "signing": 2.0}))
    variant("keys_known", lambda h, a, op, issue, t: op("decrypt", 2, 400, account="P", ct="c1", pt="p1", code="decryption_failed"))
    variant("keys_known", lambda h, a, op, issue, t: h.append({"kind": "key_rotation", "m": t[0], "m0": t[0], "m1": t[0] + 1, "key": "field", "status": 1, "error": "x"}))
    # A rotation that never ended; a read without the gauge; a node never read; keys published long ago
    # and never promoted.
    variant("keys_known", lambda h, a, op, issue, t: h.append({"kind": "key_rotation_start", "m": t[0], "m0": t[0] + 3, "key": "signing"}))
    variant("keys_known", lambda h, a, op, issue, t: h.append({"kind": "key_metrics", "m": t[0], "node": 0, "pid": 10, "field": None, "signing": 0.0}))
    def unread(h, a, op, issue, t):
        h[:] = [r for r in h if not (r["kind"] == "key_metrics" and r["node"] == 2)]
    variant("keys_known", unread)
    def stuck(h, a, op, issue, t):
        state = next(r for r in h if r["kind"] == "key_state")
        state["field"]["versions"].append({"number": 3, "state": "published", "created": "2027-01-15T07:59:00Z"})
    variant("keys_known", stuck)
    def stuck_kid(h, a, op, issue, t):
        state = next(r for r in h if r["kind"] == "key_state")
        state["signing"][1]["created_ms"] = 1_800_000_000_000
    variant("keys_known", stuck_kid)
    print("self-test passed: the clean history gives no violation, and each kind of violation is found")
    return 0
