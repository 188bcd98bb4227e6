"""The load: one thread per account, two for field encryption; every request recorded."""

import base64
import secrets
import time

from common import fp, log, ok


class Account:
    def __init__(self, name, password, kind):
        self.name = name
        self.password = password
        self.kind = kind  # "plain", "totp", "disable"
        self.id = None
        self.totp = None
        self.used_codes = set()
        self.sessions = {}  # sid -> {"access", "refresh", "issued"}
        self.dead = []  # (access token, sid) whose revocation was acknowledged
        self.used_refresh = []  # rotated-out refresh tokens (sid, token)


class Load:
    """The load generator's part of the harness (a mixin: `Harness` holds the nodes, accounts and history)."""

    def pick_node(self):
        return self.rng.choice(self.nodes)

    def ids(self, acct, sid=None, access=None, refresh=None):
        d = {"account": acct.id}
        if sid:
            d["sid"] = sid
        if access:
            d["tok"] = fp(access)
        if refresh:
            d["rtok"] = fp(refresh)
        return d

    def take_tokens(self, acct, body, rec, node):
        sid = body.get("session_id")
        acct.sessions[sid] = {"access": body["access_token"], "refresh": body["refresh_token"], "issued": time.monotonic(), "node": node.index}
        rec_extra = {"kind": "issued", "m": rec["m1"], "account": acct.id, "sid": sid, "tok": fp(body["access_token"]),
                     "rtok": fp(body["refresh_token"]), "node": node.index, "by": rec["op"], "rid": rec["rid"], "level": body.get("authentication_level")}
        self.history.write(rec_extra)
        return sid

    def do_login(self, acct):
        node = self.pick_node()
        if acct.kind == "totp":
            now = time.time()
            code = None
            for offset in (0, -30, 30):
                c = acct.totp.at(now + offset)
                if c not in acct.used_codes:
                    code = c
                    break
            if code is None:
                return
            st, body, err, rec = self.client.call("login", node, "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
            if not ok(st) or not body or not body.get("mfa_required"):
                return
            node2 = self.pick_node()
            acct.used_codes.add(code)
            st, body, err, rec = self.client.call("mfa_login", node2, "POST", "/auth/mfa/verify", {"challenge": body["challenge"], "method": "totp", "code": code}, ids=self.ids(acct))
            if ok(st) and body and body.get("access_token"):
                self.take_tokens(acct, body, rec, node2)
            return
        st, body, err, rec = self.client.call("login", node, "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
        if ok(st) and body and body.get("access_token"):
            self.take_tokens(acct, body, rec, node)

    def do_refresh(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        node = self.pick_node()
        st, body, err, rec = self.client.call("refresh", node, "POST", "/auth/refresh", {"refresh_token": s["refresh"]}, ids=self.ids(acct, sid, refresh=s["refresh"]))
        if ok(st) and body and body.get("access_token"):
            acct.used_refresh.append((sid, s["refresh"]))
            del acct.sessions[sid]
            body.setdefault("session_id", sid)
            new_sid = self.take_tokens(acct, body, rec, node)
            if new_sid != sid:
                self.history.event("note", text="refresh changed the session id", account=acct.id)
        elif st == 401:
            # Refused: the session is over (a data-loss fault, or this token counted as reused).
            acct.sessions.pop(sid, None)
            if rec.get("code") == "refresh_token_reused":
                acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
                acct.sessions.clear()
        elif st is None or st >= 500:
            # Unknown outcome: the store may have rotated. Using the old token again would count as reuse.
            acct.sessions.pop(sid, None)

    def do_list(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        st, body, err, rec = self.client.call("list", self.pick_node(), "GET", "/auth/sessions", token=s["access"], ids=self.ids(acct, sid, access=s["access"]))
        if st == 401:
            acct.sessions.pop(sid, None)

    def do_revoke(self, acct):
        sids = list(acct.sessions)
        by = self.rng.choice(sids)
        target = self.rng.choice(sids)
        s = acct.sessions[by]
        st, body, err, rec = self.client.call("revoke", self.pick_node(), "DELETE", f"/auth/sessions/{target}", token=s["access"],
                                              ids={**self.ids(acct, by, access=s["access"]), "target": target})
        t = acct.sessions.pop(target, None)
        if ok(st) and t:
            acct.dead.append((t["access"], target))
        elif st == 401:
            acct.sessions.pop(by, None)

    def do_logout_all(self, acct):
        sid = self.rng.choice(list(acct.sessions))
        s = acct.sessions[sid]
        st, body, err, rec = self.client.call("logout_all", self.pick_node(), "POST", "/auth/logout-all", token=s["access"], ids=self.ids(acct, sid, access=s["access"]))
        if ok(st):
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
        acct.sessions.clear()

    def do_probe(self, acct):
        token, sid = self.rng.choice(acct.dead)
        self.client.call("probe", self.pick_node(), "GET", "/auth/sessions", token=token, ids=self.ids(acct, sid, access=token))

    def do_reuse(self, acct):
        sid, token = self.rng.choice(acct.used_refresh)
        st, body, err, rec = self.client.call("refresh_reuse", self.pick_node(), "POST", "/auth/refresh", {"refresh_token": token}, ids=self.ids(acct, sid, refresh=token))
        if st == 401 and rec.get("code") == "refresh_token_reused":
            # Reuse ends every session of the account (rule refreshReuse). (A token of a session already
            # ended answers invalid_token and ends nothing.)
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
            acct.sessions.clear()
        acct.used_refresh = [x for x in acct.used_refresh if x[1] != token]

    def root_call(self, op, method, path, acct):
        """An administrator's call; logs the administrator in again when its session is refused."""
        for _ in range(3):
            with self.root_lock:
                if self.root_token is None:
                    st, body, _, _ = self.client.call("root_login", self.pick_node(), "POST", "/auth/login",
                                                      {"username": self.root.name, "password": self.root.password}, ids={"account": self.root.id})
                    if not ok(st):
                        return None, None
                    self.root_token = body["access_token"]
                token = self.root_token
            st, body, err, rec = self.client.call(op, self.pick_node(), method, path, token=token,
                                                  ids={"account": self.root.id, "tok": fp(token), "target_account": acct.id})
            if st == 401:
                with self.root_lock:
                    if self.root_token == token:
                        self.root_token = None
                continue
            return st, rec
        return None, None

    def do_disable_cycle(self, acct):
        st, rec = self.root_call("disable", "POST", f"/admin/accounts/{acct.id}/disable", acct)
        if st is None or not ok(st):
            if st is not None and st < 500:
                log("disable refused:", st)
            # Unknown: the account may be disabled; try to enable it again below.
        else:
            acct.dead.extend((x["access"], k) for k, x in acct.sessions.items())
            acct.sessions.clear()
            # While disabled: the old tokens and a password login must be refused.
            for _ in range(3):
                if acct.dead:
                    self.do_probe(acct)
            self.client.call("login_disabled", self.pick_node(), "POST", "/auth/login", {"username": acct.name, "password": acct.password}, ids=self.ids(acct))
        acct.sessions.clear()
        for _ in range(20):
            if self.stop.is_set() and _ > 5:
                break
            st, rec = self.root_call("enable", "POST", f"/admin/accounts/{acct.id}/enable", acct)
            if st is not None and ok(st):
                return
            time.sleep(0.5)

    def account_worker(self, acct):
        rng = self.rng
        while not self.stop.is_set():
            try:
                choices = []
                if len(acct.sessions) < 4:
                    choices.append(("login", 3 if acct.kind != "totp" else 1.5))
                if acct.sessions:
                    choices += [("refresh", 4), ("list", 6), ("revoke", 1.5), ("logout_all", 0.4)]
                if acct.dead:
                    choices.append(("probe", 2))
                if acct.used_refresh:
                    choices.append(("reuse", 0.1))
                if acct.kind == "disable":
                    choices.append(("disable", 0.3))
                total = sum(w for _, w in choices)
                x = rng.random() * total
                for name, w in choices:
                    x -= w
                    if x <= 0:
                        break
                getattr(self, {"login": "do_login", "refresh": "do_refresh", "list": "do_list", "revoke": "do_revoke",
                               "logout_all": "do_logout_all", "probe": "do_probe", "reuse": "do_reuse",
                               "disable": "do_disable_cycle"}[name])(acct)
                if len(acct.dead) > 200:
                    acct.dead = acct.dead[-100:]
                if len(acct.used_refresh) > 50:
                    acct.used_refresh = acct.used_refresh[-25:]
            except Exception as e:  # a bug in the load generator must not end the run silently
                self.history.event("harness_error", text=f"{type(e).__name__}: {e}")
                log("worker error:", type(e).__name__, e)
                time.sleep(0.5)
            time.sleep(self.args.think)

    def crypto_worker(self, wid):
        token = None
        n = 0
        while not self.stop.is_set():
            try:
                if token is None:
                    st, body, _, rec = self.client.call("app_login", self.pick_node(), "POST", "/auth/login",
                                                        {"username": self.app.name, "password": self.app.password}, ids={"account": self.app.id})
                    if ok(st):
                        token = body["access_token"]
                        self.history.write({"kind": "issued", "m": rec["m1"], "account": self.app.id, "sid": body.get("session_id"),
                                            "tok": fp(token), "rtok": fp(body["refresh_token"]), "node": rec["node"], "by": "app_login"})
                    else:
                        time.sleep(0.5)
                        continue
                n += 1
                context = f"chaos/w{wid}/{n}"
                plaintext = secrets.token_bytes(24)
                node = self.pick_node()
                st, body, _, rec = self.client.call("encrypt", node, "POST", "/v1/crypto/encrypt",
                                                    {"context": context, "plaintext": base64.b64encode(plaintext).decode()},
                                                    token=token, ids={"account": self.app.id, "tok": fp(token), "context": context, "pt": fp(plaintext)})
                if st == 401:
                    token = None
                    continue
                if ok(st) and body and body.get("ciphertext"):
                    ct = body["ciphertext"]
                    self.history.event("ciphertext", context=context, ct=fp(ct), pt=fp(plaintext), key_version=body.get("key_version"), node=node.index, rid=rec["rid"])
                    with self.ct_lock:
                        self.ciphertexts.append((context, ct, fp(plaintext)))
                    if self.rng.random() < 0.5:
                        self.decrypt(self.pick_node(), context, ct, fp(plaintext), token, "decrypt")
            except Exception as e:
                self.history.event("harness_error", text=f"{type(e).__name__}: {e}")
                log("crypto worker error:", type(e).__name__, e)
                time.sleep(0.5)
            time.sleep(self.args.think)

    def decrypt(self, node, context, ct, pt_fp, token, op):
        st, body, err, rec = self.client.call(op, node, "POST", "/v1/crypto/decrypt", {"context": context, "ciphertext": ct},
                                              token=token, ids={"account": self.app.id, "tok": fp(token), "context": context, "ct": fp(ct), "pt": pt_fp}, record=False)
        if ok(st) and body and "plaintext" in body:
            try:
                rec["got"] = fp(base64.b64decode(body["plaintext"]))
            except ValueError:
                rec["got"] = "undecodable"
        self.history.write(rec)
        return st

    # ---- faults
