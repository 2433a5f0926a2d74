"""Chromium (Debian's chromium, headless) presses OK through aurid with HTTP
Digest, as a user typing the password into the browser's login prompt would
(issue 5: "Browsers (Chromium) ... succeed").

The browser is driven over the Chrome DevTools Protocol (python3-websocket):
Fetch.authRequired is the login prompt, answered with ProvideCredentials; the
scheme and the Authorization header are then chosen by Chromium's own network
stack.  CDP does not report the headers of the retried request, so Chromium
talks to aurid through a small recording TCP relay in this test, which keeps
every request head that Chromium sent.  Asserted: the challenge Chromium
answered was Digest, its first request carried no Authorization and its second
a Digest one (not Basic, also offered), the page shows "ok OK", OK was
pressed once, and aurid's audit has one `auth` (401) then one `ok` (200) row
for the request.  A wrong password is refused and nothing is pressed."""

import re
import socket
import threading
import time

import pytest

from harness import ADMIN_PASSWORD, key_code

pytest.importorskip("websocket", reason="python3-websocket is not installed")

from cdp import CHROMIUM, Browser  # noqa: E402
from relay import pump, serve  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (packaging/dev/test-deps.txt)")


class Relay:
    """A TCP relay on 127.0.0.1 to aurid's HTTP port that records what clients send."""

    def __init__(self, port):
        self.upstream = port
        self.sent = []           # one bytearray per client connection
        self.lock = threading.Lock()
        self.lsock = serve("127.0.0.1", 0, self._relay)
        self.port = self.lsock.getsockname()[1]

    def _relay(self, c):
        try:
            u = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            c.close()
            return
        buf = bytearray()
        with self.lock:
            self.sent.append(buf)
        threading.Thread(target=pump, args=(c, u, buf, self.lock), daemon=True).start()
        pump(u, c)

    def requests(self, target):
        """The heads of the requests for target, in order: list of {lower-case name: value}."""
        out = []
        with self.lock:
            streams = [bytes(b) for b in self.sent]
        for data in streams:
            for head in re.findall(rb"(?:GET|POST|HEAD) [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n", data):
                lines = head.decode(errors="replace").split("\r\n")
                if lines[0].split()[1] != target:
                    continue
                out.append({k.strip().lower(): v.strip() for k, _, v in
                            (l.partition(":") for l in lines[1:] if l)})
        return out

    def close(self):
        self.lsock.close()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def visit_with_login(b, url, user, password, timeout=20):
    """Opens url; answers every login prompt with user/password (at most twice, as
    a user would give up).  Returns (page text, challenges seen, final HTTP
    status of url)."""
    b.send("Network.enable")
    b.send("Page.enable")
    b.send("Fetch.enable", handleAuthRequests=True, patterns=[{"urlPattern": "*"}])
    nav = b.post("Page.navigate", url=url)
    challenges, status, loaded = [], None, False
    deadline = time.time() + timeout
    while time.time() < deadline and not loaded:
        ev = b.next_event(deadline)
        if not ev:
            continue
        if ev.get("id") == nav:
            assert "error" not in ev and not ev["result"].get("errorText"), ev
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
        elif m == "Network.responseReceived" and p["response"]["url"] == url:
            status = p["response"]["status"]
        elif m == "Page.loadEventFired":
            loaded = True
    assert loaded, "the page did not load: %s" % b.read_log()
    text = b.send("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                  returnByValue=True)["result"].get("value")
    return text, challenges, status


def action_rows(a):
    return [r for r in a.audit() if "key=OK" in (r.get("request") or "")]


@pytest.fixture
def relay(aurid):
    r = Relay(aurid.port)
    yield r
    r.close()


def test_chromium_presses_ok_with_digest(aurid, relay, browser):
    url = "http://127.0.0.1:%d/servlet?key=OK" % relay.port
    text, challenges, status = visit_with_login(browser, url, "admin", ADMIN_PASSWORD)
    heads = relay.requests("/servlet?key=OK")
    auths = [h.get("authorization") for h in heads]
    # What the user sees.
    assert status == 200 and text.strip() == "ok OK", (status, text, challenges, auths)
    # One prompt, for aurid's realm; Chromium picked Digest over Basic and sent it.
    assert len(challenges) == 1, challenges
    assert challenges[0]["scheme"].lower() == "digest" and challenges[0]["realm"] == "aurid", challenges
    # On the wire: first without credentials (the 401), then Digest, and nothing else.
    assert len(auths) == 2 and auths[0] is None and auths[1].startswith("Digest "), heads
    assert 'username="admin"' in auths[-1] and 'realm="aurid"' in auths[-1] and "qop=auth" in auths[-1], auths
    assert "algorithm=SHA-256" in auths[-1], auths   # the stronger of the two offered
    assert ADMIN_PASSWORD not in auths[-1]
    # The phone: OK pressed once; the audit shows the 401 and then the authenticated request.
    assert aurid.presses() == [key_code("KEY_OK")]
    rows = action_rows(aurid)
    assert [(r["reason"], r["status"]) for r in rows] == [("auth", 401), ("ok", 200)], rows
    assert rows[1]["user"] == "admin" and rows[0]["user"] is None, rows
    print("Chromium sent: %s" % auths[-1].split(" response=")[0])


def test_chromium_wrong_password_refused(aurid, relay, browser):
    url = "http://127.0.0.1:%d/servlet?key=OK" % relay.port
    text, challenges, status = visit_with_login(browser, url, "admin", "not-the-password")
    assert status == 401, (status, text)
    assert len(challenges) >= 2, challenges         # asked again, as a browser does
    auths = [h.get("authorization") for h in relay.requests("/servlet?key=OK")]
    assert auths[0] is None and len(auths) >= 2 and all(h.startswith("Digest ") for h in auths[1:]), auths
    assert aurid.presses() == []
    rows = action_rows(aurid)
    assert rows and all(r["reason"] == "auth" and r["status"] == 401 for r in rows), rows
