"""Chromium (Debian's chromium, headless) presses OK through aurid with HTTP
Digest, as a user typing the password into the browser's login prompt would
(issue 5: "Browsers (Chromium) ... succeed").

The browser is driven over the Chrome DevTools Protocol (python3-websocket):
Fetch.authRequired is the login prompt, answered with ProvideCredentials; the
scheme and the Authorization header are then chosen by Chromium's own network
stack.  Asserted: the challenge Chromium answered was Digest, the header it
sent was Digest (not Basic, also offered), the page shows "ok OK", OK was
pressed once, and aurid's audit has one `auth` (401) then one `ok` (200) row
for the request.  A wrong password is refused and nothing is pressed."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

from harness import ADMIN_PASSWORD, key_code, wait_for

websocket = pytest.importorskip("websocket", reason="python3-websocket is not installed")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (packaging/dev/test-deps.txt)")

# Without these, Chromium reaches for Google's hosts (closed network here) at every start.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


class Browser:
    """One headless Chromium with a fresh profile and a CDP connection to its page."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="aurid-chromium-")
        self.log = open(os.path.join(self.dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen([CHROMIUM] + FLAGS + ["--user-data-dir=" + os.path.join(self.dir, "profile"),
                                                           "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        port_file = os.path.join(self.dir, "profile", "DevToolsActivePort")
        assert wait_for(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                        timeout=30), self.read_log()
        port = int(open(port_file).read().split()[0])
        pages = wait_for(lambda: self._pages(port), timeout=10)
        assert pages, self.read_log()
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=20, suppress_origin=True)
        self.next_id = 0
        self.events = []

    @staticmethod
    def _pages(port):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=2) as r:
                return [t for t in json.load(r) if t.get("type") == "page"]
        except OSError:
            return None

    def read_log(self):
        with open(os.path.join(self.dir, "chromium.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def send(self, method, **params):
        """Sends a command and returns its result; events that arrive meanwhile are queued."""
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        self.ws.settimeout(20)
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                assert "error" not in msg, (method, msg)
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def next_event(self, deadline):
        if self.events:
            return self.events.pop(0)
        self.ws.settimeout(max(0.1, deadline - time.time()))
        msg = json.loads(self.ws.recv())
        return msg if "method" in msg else None

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def visit_with_login(b, url, user, password, timeout=20):
    """Opens url; answers every login prompt with user/password (at most twice, as
    a user would give up).  Returns (page text, challenges seen, Authorization
    headers sent for url, final HTTP status of url)."""
    b.send("Network.enable")
    b.send("Page.enable")
    b.send("Fetch.enable", handleAuthRequests=True, patterns=[{"urlPattern": "*"}])
    b.send("Page.navigate", url=url)
    challenges, authorizations, status, loaded = [], [], None, False
    deadline = time.time() + timeout
    while time.time() < deadline and not loaded:
        ev = b.next_event(deadline)
        if not ev:
            continue
        m, p = ev["method"], ev.get("params", {})
        if m == "Fetch.requestPaused":
            b.send("Fetch.continueRequest", requestId=p["requestId"])
        elif m == "Fetch.authRequired":
            challenges.append(p["authChallenge"])
            answer = {"response": "ProvideCredentials", "username": user, "password": password}
            if len(challenges) > 2:
                answer = {"response": "CancelAuth"}
            b.send("Fetch.continueWithAuth", requestId=p["requestId"], authChallengeResponse=answer)
        elif m == "Network.requestWillBeSentExtraInfo":
            h = {k.lower(): v for k, v in p.get("headers", {}).items()}
            if "authorization" in h:
                authorizations.append(h["authorization"])
        elif m == "Network.responseReceived" and p["response"]["url"] == url:
            status = p["response"]["status"]
        elif m == "Page.loadEventFired":
            loaded = True
    assert loaded, "the page did not load: %s" % b.read_log()
    text = b.send("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                  returnByValue=True)["result"].get("value")
    return text, challenges, authorizations, status


def action_rows(a):
    return [r for r in a.audit() if "key=OK" in (r.get("request") or "")]


def test_chromium_presses_ok_with_digest(aurid, browser):
    url = aurid.url("/servlet?key=OK")
    text, challenges, auths, status = visit_with_login(browser, url, "admin", ADMIN_PASSWORD)
    # What the user sees.
    assert status == 200 and text.strip() == "ok OK", (status, text, challenges, auths)
    # One prompt, for aurid's realm; Chromium picked Digest over Basic and sent it.
    assert len(challenges) == 1, challenges
    assert challenges[0]["scheme"].lower() == "digest" and challenges[0]["realm"] == "aurid", challenges
    assert auths and all(h.startswith("Digest ") for h in auths), auths
    assert 'username="admin"' in auths[-1] and 'realm="aurid"' in auths[-1] and "qop=auth" in auths[-1], auths
    assert ADMIN_PASSWORD not in auths[-1]
    # The phone: OK pressed once; the audit shows the 401 and then the authenticated request.
    assert aurid.presses() == [key_code("KEY_OK")]
    rows = action_rows(aurid)
    assert [(r["reason"], r["status"]) for r in rows] == [("auth", 401), ("ok", 200)], rows
    assert rows[1]["user"] == "admin" and rows[0]["user"] is None, rows
    print("Chromium sent: %s" % auths[-1].split(" response=")[0])


def test_chromium_wrong_password_refused(aurid, browser):
    url = aurid.url("/servlet?key=OK")
    text, challenges, auths, status = visit_with_login(browser, url, "admin", "not-the-password")
    assert status == 401, (status, text)
    assert len(challenges) >= 2, challenges         # asked again, as a browser does
    assert auths and all(h.startswith("Digest ") for h in auths), auths
    assert aurid.presses() == []
    rows = action_rows(aurid)
    assert rows and all(r["reason"] == "auth" and r["status"] == 401 for r in rows), rows
