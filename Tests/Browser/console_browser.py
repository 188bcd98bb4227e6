"""The web console in a real browser: headless Chromium driven by Selenium, with Chromium's virtual WebAuthn
authenticator standing in for a platform passkey.

A person's path through the console, end to end, against a live `warden serve` (scripts/browser-test.sh starts
it): sign up, enrol TOTP by reading the secret from the page and answering with pyotp, sign out, sign in with
TOTP, make backup codes, register a passkey, sign out, sign in passwordless with the passkey, list and revoke a
session, sign out everywhere; an operator rotates a key from the dashboard, finds an account, verifies the audit
chain. Along the way: cookie flags, the Content-Security-Policy (no violation reported by the browser), CSRF
refusals, field errors on bad input, no password echoed back. Screenshots of every page go to the folder given
with --screenshots.

Usage: console_browser.py BASE_URL OPERATOR_USERNAME OPERATOR_PASSWORD [--screenshots DIR]
"""

import argparse
import json
import os
import re
import ssl
import sys
import time
import urllib.request
import urllib.error

import pyotp
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions
from selenium.webdriver.support.ui import WebDriverWait
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

CHECKS = []


def check(condition, message, detail=""):
    if not condition:
        raise AssertionError(message + (": " + detail if detail else ""))
    CHECKS.append(message)


UNVERIFIED = ssl._create_unverified_context()


def api(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, context=UNVERIFIED if base.startswith("https://") else None) as response:
            text = response.read()
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            return response.status, (json.loads(text) if text and is_json else text), response.headers
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, (json.loads(text) if text and error.headers.get("Content-Type", "").startswith("application/json") else text), error.headers



def gone(element):
    """Whether `element` left the document (the form's page was replaced). Chromium reports an element of
    a replaced document either as stale or, while the navigation is under way, as a node that "does not
    belong to the document": both mean the page has changed."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise

class Console:
    def __init__(self, base, screenshots):
        self.base = base
        self.screenshots = screenshots
        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"):
            options.add_argument(flag)
        if base.startswith("https://"):
            # The embedded default's self-signed certificate, accepted as a person would click through.
            options.add_argument("--ignore-certificate-errors")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        chromium = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
        if os.path.exists(chromium):
            options.binary_location = chromium
        driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        self.driver.set_page_load_timeout(30)
        authenticator = VirtualAuthenticatorOptions()
        authenticator.protocol = Protocol.CTAP2
        authenticator.transport = Transport.INTERNAL
        authenticator.has_resident_key = True
        authenticator.has_user_verification = True
        authenticator.is_user_verified = True
        authenticator.is_user_consenting = True
        self.driver.add_virtual_authenticator(authenticator)

    def open(self, path):
        self.driver.get(self.base + path)
        self.settle()

    def shot(self, name):
        if self.screenshots:
            # The whole page, not only the window.
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(1280, max(900, min(height + 40, 4000)))
            self.driver.save_screenshot(os.path.join(self.screenshots, name + ".png"))
            self.driver.set_window_size(1280, 900)

    def fill(self, values):
        for name, value in values.items():
            field = self.driver.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)

    def submit(self, form_action, button_text=None):
        form = self.driver.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"]')
        buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit]")
        button = next(b for b in buttons if button_text is None or b.text.strip() == button_text)
        button.click()
        WebDriverWait(self.driver, 20).until(lambda driver: gone(button))
        self.settle()

    def settle(self):
        """Waits for the new page to finish loading (the footer closes every console page)."""
        WebDriverWait(self.driver, 20).until(
            lambda d: d.execute_script("return document.readyState") == "complete" and d.find_elements(By.TAG_NAME, "footer"))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def path(self):
        return "/" + self.driver.current_url.split("/", 3)[3].split("?")[0]

    def flash(self):
        return " ".join(e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".flash"))

    def csp_violations(self):
        return [entry for entry in self.driver.get_log("browser") if "Content Security Policy" in entry.get("message", "") or "Refused to" in entry.get("message", "")]


def outbox_code(path, address):
    """The code in the newest message to `address` in the development outbox (one JSON object per line)."""
    for _ in range(50):
        with open(path) as lines:
            messages = [json.loads(line) for line in lines if line.strip()]
        for message in reversed(messages):
            match = re.search(r"\b(\d{6})\b", message.get("body", ""))
            if message.get("to") == address and match:
                return match.group(1)
        time.sleep(0.1)
    raise AssertionError("no code was sent to " + address)


def next_totp_code(secret, after_step=None):
    """A TOTP code for a step later than `after_step` (a step is accepted once)."""
    totp = pyotp.TOTP(secret)
    while True:
        step = int(time.time()) // 30
        if after_step is None or step > after_step:
            return totp.now(), step
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("operator")
    parser.add_argument("operator_password")
    parser.add_argument("--screenshots")
    parser.add_argument("--outbox", help="the development sender's outbox.jsonl, to read emailed codes")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    browser = Console(base, args.screenshots)
    d = browser.driver
    username, password = "alice", "a long and unguessable passphrase 7"
    try:
        # --- Headers and cookies, as any client sees them.
        status, _, headers = api(base, "GET", "/console/sign-in")
        csp = headers.get("Content-Security-Policy", "")
        check(status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp and "form-action 'self'" in csp, "the sign-in page carries a strict CSP")
        check(headers.get("X-Frame-Options") == "DENY", "pages cannot be framed")

        # --- Sign up (bad input first: mismatched passwords, the page again with the error by the field).
        browser.open("/console/sign-up")
        browser.shot("01-sign-up")
        browser.fill({"username": username, "password": password, "password_confirmation": password + "x"})
        browser.submit("/console/sign-up")
        check("The two passwords differ." in browser.text(), "a mismatched confirmation is shown next to its field", browser.text()[:400])
        check(password not in d.page_source, "a typed password is never echoed back")
        browser.fill({"username": username, "password": password, "password_confirmation": password})
        browser.submit("/console/sign-up")
        check(browser.path() == "/console/account" and "Welcome" in browser.flash(), "sign-up signs the new account in")
        cookies = {c["name"]: c for c in d.get_cookies()}
        session = cookies.get("__Host-warden-session")
        check(session is not None and session["httpOnly"] and session["secure"] and session.get("sameSite") == "Strict" and session["path"] == "/",
              "the session cookie is __Host-, HttpOnly, Secure, SameSite=Strict")
        browser.shot("02-account-new")

        # --- A replayed form token is refused with the page and a message (not an error page).
        browser.open("/console/account/password")
        token_field = 'form[action="/console/account/password"] input[name=csrf]'
        token = d.find_element(By.CSS_SELECTOR, token_field).get_attribute("value")
        browser.fill({"current_password": "wrong password entirely", "new_password": "x" * 20, "new_password_confirmation": "x" * 20})
        browser.submit("/console/account/password")
        check("current password is not correct" in browser.text().lower(), "a wrong current password is reported by its field")
        d.execute_script("document.querySelector(arguments[1]).value = arguments[0]", token, token_field)
        browser.fill({"current_password": password, "new_password": "y" * 20, "new_password_confirmation": "y" * 20})
        browser.submit("/console/account/password")
        check("already submitted once" in browser.flash(), "a reused form token is refused with a clear message", browser.text()[:300])
        d.execute_script("document.querySelector(arguments[0]).value = 'forged'", token_field)
        browser.fill({"current_password": password, "new_password": "y" * 20, "new_password_confirmation": "y" * 20})
        browser.submit("/console/account/password")
        check("security token" in browser.flash(), "a forged form token is refused with a clear message")
        browser.shot("03-change-password-refused")

        # --- Enrol TOTP: the secret read from the page, the code from pyotp.
        browser.open("/console/account/totp")
        browser.shot("04-totp-start")
        browser.fill({"current_password": password})
        browser.submit("/console/account/totp")
        secret = d.find_element(By.ID, "totp-secret").text.strip()
        qr = d.find_element(By.CSS_SELECTOR, ".qr img").get_attribute("src")
        check(len(secret) >= 16 and qr.startswith("data:image/png;base64,"), "the TOTP page shows the QR image and the secret")
        browser.shot("05-totp-scan")
        browser.fill({"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
        browser.submit("/console/account/totp/confirm")
        check("not correct" in browser.text(), "a wrong enrolment code is refused")
        # The secret of a refused confirmation stays valid only on its page: start again.
        browser.open("/console/account/totp")
        browser.fill({"current_password": password})
        browser.submit("/console/account/totp")
        secret = d.find_element(By.ID, "totp-secret").text.strip()
        code, used_step = next_totp_code(secret)
        browser.fill({"code": code})
        browser.submit("/console/account/totp/confirm")
        check("authenticator app is set up" in browser.flash(), "TOTP is enrolled with a code from pyotp")

        # --- Sign out, then sign in with password and TOTP.
        browser.submit("/console/sign-out")
        check(browser.path() == "/console/sign-in" and "signed out" in browser.flash(), "sign-out returns to the sign-in page")
        browser.shot("06-sign-in")
        browser.fill({"username": username, "password": "not the password"})
        browser.submit("/console/sign-in")
        check("username or password is not correct" in browser.text(), "a wrong password gets the same answer as an unknown name")
        browser.fill({"username": "nobody-" + str(int(time.time())), "password": "not the password"})
        browser.submit("/console/sign-in")
        check("username or password is not correct" in browser.text(), "an unknown username is not revealed")
        browser.fill({"username": username, "password": password})
        browser.submit("/console/sign-in")
        check("Verify it is you" in browser.text(), "a password sign-in asks for the second factor")
        browser.shot("07-second-factor")
        code, used_step = next_totp_code(secret, used_step)
        browser.fill({"code": code})
        browser.submit("/console/sign-in/factor")
        check(browser.path() == "/console/account" and "two-step" in browser.text(), "TOTP completes the sign-in at MFA level")

        # --- Backup codes (a recent second factor: no code asked), shown once.
        browser.submit("/console/account/backup-codes")
        codes = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#backup-code-list li")]
        check(len(codes) >= 8, "backup codes are shown once")
        link = d.find_element(By.LINK_TEXT, "Download as text").get_attribute("href")
        check(link.startswith("data:text/plain") and urllib.request.unquote(link).count(codes[0]) == 1, "the codes can be downloaded as text")
        browser.shot("08-backup-codes")

        # --- An email factor: the code read from the development outbox (the embedded default's sender).
        if args.outbox:
            browser.open("/console/account/contact?kind=email")
            browser.fill({"destination": "alice@example.com"})
            browser.submit("/console/account/contact")
            browser.fill({"code": outbox_code(args.outbox, "alice@example.com")})
            browser.submit("/console/account/contact/confirm")
            check("factor is set up" in browser.flash(), "an email factor is enrolled with the code it was sent")

        # --- Register a passkey with the virtual authenticator.
        browser.open("/console/account/passkeys")
        browser.fill({"name": "Laptop"})
        browser.submit("/console/account/passkeys", "Add a passkey")
        check("passkey is registered" in browser.flash() and "Laptop" in browser.text(), "a passkey is registered from the browser")
        browser.shot("09-passkeys")
        check(len(d.get_credentials()) == 1 and d.get_credentials()[0].is_resident_credential, "the authenticator holds one discoverable credential")

        # --- Sign out; sign in passwordless with the passkey.
        browser.submit("/console/sign-out")
        browser.submit("/console/sign-in/passkey", "Sign in with a passkey")
        check(browser.path() == "/console/account", "the passkey signs in without a username or password")
        browser.shot("10-account")

        # --- A second session from the API (password + a backup code), then listed and revoked in the browser.
        status, challenge, _ = api(base, "POST", "/auth/login", {"username": username, "password": password})
        check(status == 200 and challenge.get("mfa_required"), "the API asks for a second factor too")
        status, tokens, _ = api(base, "POST", "/auth/mfa/verify", {"challenge": challenge["challenge"], "method": "backup_code", "code": codes[0]})
        check(status == 200, "a backup code completes an API sign-in")
        browser.open("/console/account/sessions")
        rows = d.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")
        check(len(rows) == 2 and "this device" in browser.text(), "both sessions are listed, this one marked")
        browser.shot("11-sessions")
        other = next(r for r in rows if "this device" not in r.text)
        other.find_element(By.CSS_SELECTOR, "button").click()
        WebDriverWait(d, 20).until(lambda drv: "signed out" in browser.flash())
        status, _, _ = api(base, "GET", "/auth/sessions", token=tokens["access_token"])
        check(status == 401, "the revoked session's token is refused at once")

        # --- Sign out everywhere: the browser's session ends too.
        browser.submit("/console/account/sessions/revoke-all")
        check(browser.path() == "/console/sign-in" and "every device" in browser.flash(), "sign out everywhere ends this session too")
        browser.open("/console/account")
        check(browser.path() == "/console/sign-in", "the old cookies no longer sign in")

        # --- A code by email as the second factor.
        if args.outbox:
            browser.fill({"username": username, "password": password})
            browser.submit("/console/sign-in")
            browser.submit("/console/sign-in/send", "Send me a code by email")
            check("on its way by email" in browser.flash(), "a sign-in code is sent by email")
            d.find_element(By.CSS_SELECTOR, 'select[name=method] option[value=email]').click()
            browser.fill({"code": outbox_code(args.outbox, "alice@example.com")})
            browser.submit("/console/sign-in/factor")
            check(browser.path() == "/console/account", "an emailed code completes a password sign-in")
            browser.submit("/console/sign-out")

        # --- A passkey as the second factor after the password.
        browser.fill({"username": username, "password": password})
        browser.submit("/console/sign-in")
        check("Use a passkey" in browser.text(), "the passkey is offered as a second factor")
        browser.submit("/console/sign-in/factor", "Use a passkey")
        check(browser.path() == "/console/account", "a passkey completes a password sign-in")
        browser.submit("/console/sign-out")

        # --- The operator: dashboard, rotate now, accounts, audit log with the chain verified.
        browser.fill({"username": args.operator, "password": args.operator_password})
        browser.submit("/console/sign-in")
        browser.open("/console/admin")
        before = int(d.find_element(By.ID, "primary-version").text)
        browser.shot("12-security-dashboard")
        browser.submit("/console/admin/rotate")
        after = int(d.find_element(By.ID, "primary-version").text)
        check(after == before + 1 and "now primary" in browser.flash(), "an operator rotates the key from the dashboard")
        browser.open("/console/admin/accounts?q=ali")
        check("alice" in browser.text(), "an operator finds an account")
        browser.shot("13-accounts")
        browser.open("/console/admin/audit?verify=1")
        check("chain is intact" in d.find_element(By.ID, "chain").text, "the audit chain verifies from the console")
        browser.shot("14-audit-log")
        browser.submit("/console/sign-out")

        # --- A person without the operator permission gets a page saying so, not the dashboard.
        d.delete_all_cookies()
        browser.open("/console/sign-in")
        browser.submit("/console/sign-in/passkey", "Sign in with a passkey")
        browser.open("/console/admin")
        check("Not allowed" in browser.text() and "Security" not in [a.text for a in d.find_elements(By.CSS_SELECTOR, "header nav a")], "operators' pages refuse other accounts")
        browser.shot("15-not-allowed")

        violations = browser.csp_violations()
        check(not violations, "the browser reported no Content-Security-Policy violation: %s" % violations[:3])
    finally:
        d.quit()
    print(json.dumps({"checks": len(CHECKS), "passed": CHECKS}, indent=1))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print("FAILED:", error, file=sys.stderr)
        sys.exit(1)
