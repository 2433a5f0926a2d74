"""Headless Chromium against aurid's cross-site and DNS-rebinding defence
(issue 9 item 4).

Cross-site: an "attacker" page on another origin (http://127.0.0.2:PORT,
another site to the browser) embeds an <img>, a hidden <iframe>, a form
auto-submitted into an iframe, and two fetch() calls (no-cors and cors),
each for a different key.  Nothing may be pressed, and the audit must hold
one refused row per request with its reason (`cross-site`; `origin` for the
cors fetch, which carries the page's Origin).  Then the user clicks a link
on that page to the phone: a top-level navigation, which still presses OK.

Rebinding: Chromium resolves rebind.example to a small server on
127.0.0.3, on the phone's port, that serves the attacker's page at "/" and
passes every other request on to the phone, as if the name had been
re-pointed at it after the page loaded.  The page's same-origin fetch() of
/servlet?key=OK and /screencapture reach aurid with Host: rebind.example,
and are refused (`host`): nothing pressed, no picture for the page.

Action URI authentication is off in these tests, so that the rule under
test is the only thing between the page and the keypad (with it on, a
browser that holds the phone's credentials attaches them).  Screenshots of
the pages go to <build>/test-artifacts/.
"""

import http.server
import json
import os
import socket
import socketserver
import threading

import pytest

from harness import BUILD, key_code, wait_for

pytest.importorskip("websocket", reason="python3-websocket is not installed")

from cdp import CHROMIUM, Browser  # noqa: E402
from relay import pump, serve  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (packaging/dev/test-deps.txt)")

ARTIFACTS = os.path.join(BUILD, "test-artifacts")

ATTACKER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Cheap flights</title>
<style>body {{ font: 16px sans-serif; margin: 12px }} iframe {{ width: 460px; height: 70px; border: 1px solid #999 }}
a {{ display: inline-block; font-size: 22px; padding: 8px; background: #cde }}</style></head>
<body>
<h1>Cheap flights</h1>
<p>img: <img id="img" src="{phone}/servlet?key=1" width="40" height="20" alt="img"></p>
<iframe id="hidden" src="{phone}/servlet?key=2" style="display:none"></iframe>
<form id="f" method="GET" action="{phone}/servlet" target="sink"><input type="hidden" name="key" value="3"></form>
<p>form into an iframe:</p><iframe name="sink" id="sink"></iframe>
<p id="fetches">fetch: pending</p>
<p><a id="dial" href="{phone}/servlet?key=OK">Call the help desk</a></p>
<script>
document.getElementById("f").submit();
const out = [];
function note(what) {{ out.push(what); document.getElementById("fetches").textContent = "fetch: " + out.join(", "); }}
fetch("{phone}/servlet?key=4", {{mode: "no-cors"}}).then(r => note("no-cors " + r.type), e => note("no-cors failed"));
fetch("{phone}/servlet?key=5").then(r => note("cors " + r.status), e => note("cors failed"));
</script>
</body></html>
"""

REBIND_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>rebind</title></head>
<body><h1>Nothing to see here</h1><pre id="out">working</pre>
<script>
(async () => {
  const r = {};
  try {
    const k = await fetch("/servlet?key=OK");
    r.key = [k.status, await k.text()];
  } catch (e) { r.key = ["failed", String(e)]; }
  try {
    const s = await fetch("/screencapture?format=png");
    r.shot = [s.status, s.headers.get("content-type")];
  } catch (e) { r.shot = ["failed", String(e)]; }
  document.getElementById("out").textContent = JSON.stringify(r, null, 1);
  window.result = r;
})();
</script></body></html>
"""


class PageServer:
    """Serves one HTML page at "/" on host:port (0: any free port), in a thread."""

    def __init__(self, host, html, port=0):
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body) if self.path == "/" else 0))
                self.end_headers()
                if self.path == "/":
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = socketserver.ThreadingTCPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RebindServer:
    """On host:port: the attacker's page for "GET /", and for any other request
    a plain relay to the phone (upstream), as a DNS name re-pointed at the
    phone would be.  Each connection is decided by its first request."""

    def __init__(self, host, port, upstream, html):
        self.page = ("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n" % len(html.encode())).encode() + html.encode()
        self.upstream = upstream
        self.relayed = []          # request lines passed on to the phone
        self.lsock = serve(host, port, self._serve)

    def _serve(self, c):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    c.close()
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0]
            if line.split()[1] == b"/":
                c.sendall(self.page)
                c.shutdown(socket.SHUT_WR)
                c.close()
                return
            self.relayed.append(line.decode(errors="replace"))
            u = socket.create_connection(("127.0.0.1", self.upstream))
            u.sendall(data)
            threading.Thread(target=pump, args=(c, u), daemon=True).start()
            pump(u, c)
        except OSError:
            c.close()

    def close(self):
        self.lsock.close()


def shot(browser, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    browser.screenshot(path)
    print("screenshot: %s" % path)
    return path


def rows_by_key(a):
    """Audit rows of action requests, keyed by the key= value of the request."""
    out = {}
    for r in a.audit():
        req = r.get("request") or ""
        if "key=" in req:
            out.setdefault(req.split("key=", 1)[1], []).append(r)
    return out


@pytest.fixture
def phone(make_aurid):
    return make_aurid({"aurid.action_uri.auth": "0"})


def test_cross_site_page_presses_nothing_but_a_clicked_link_works(phone):
    site = PageServer("127.0.0.2", ATTACKER_PAGE.format(phone="http://127.0.0.1:%d" % phone.port))
    b = Browser()
    try:
        b.send("Page.enable")
        b.send("Page.navigate", url="http://127.0.0.2:%d/" % site.port)
        # Every embedded request reached aurid and was decided.
        decided = wait_for(lambda: all(k in rows_by_key(phone) for k in "12345"), timeout=20)
        assert decided, (rows_by_key(phone), b.read_log())
        assert b.wait_until("document.getElementById('fetches').textContent.split(',').length == 2 && "
                            "document.getElementById('fetches').textContent"), b.read_log()
        fetches = b.evaluate("document.getElementById('fetches').textContent")
        shot(b, "cross-site-attacker-page.png")
        # Nothing pressed; each request refused, audited with its reason.
        assert phone.presses() == []
        rows = rows_by_key(phone)
        expect = {"1": "cross-site", "2": "cross-site", "3": "cross-site", "4": "cross-site", "5": "origin"}
        for k, reason in expect.items():
            assert [(r["reason"], r["status"]) for r in rows[k]] == [(reason, 403)] * len(rows[k]), (k, rows[k])
            assert all(r["items"][0]["outcome"] == "not-run" for r in rows[k]), rows[k]
        # The cors fetch saw the refusal (no CORS grant: a network error to the page).
        assert "cors failed" in fetches and "no-cors opaque" in fetches, fetches

        # The user clicks the link: a top-level navigation to the phone.
        b.click("#dial")
        text = b.wait_until("location.href.indexOf('key=OK') >= 0 && document.body && document.body.innerText")
        shot(b, "cross-site-link-clicked.png")
        assert text.strip() == "ok OK", text
        assert phone.presses() == [key_code("KEY_OK")]
        ok = rows_by_key(phone)["OK"]
        assert [(r["reason"], r["status"]) for r in ok] == [("ok", 200)], ok
    finally:
        b.close()
        site.close()


def test_rebound_name_presses_nothing_and_reads_no_screen(phone):
    # The phone listens on 127.0.0.1:PORT; the rebinding name answers on 127.0.0.3, same port.
    rebind = RebindServer("127.0.0.3", phone.port, phone.port, REBIND_PAGE)
    b = Browser(flags=["--host-resolver-rules=MAP rebind.example 127.0.0.3"])
    try:
        b.send("Page.enable")
        b.send("Page.navigate", url="http://rebind.example:%d/" % phone.port)
        result = b.wait_until("window.result")
        shot(b, "rebind-page.png")
        assert result, b.read_log()
        # The requests did reach the phone, through the "re-pointed" name.
        assert "GET /servlet?key=OK HTTP/1.1" in rebind.relayed, rebind.relayed
        assert result["key"][0] == 403, result
        assert "Host 'rebind.example:%d'" % phone.port in result["key"][1], result
        assert result["shot"][0] == 403 and not result["shot"][1].startswith("image/"), result
        assert phone.presses() == []
        rows = phone.audit()
        assert [(r["reason"], r["status"]) for r in rows] == [("host", 403), ("host", 403)], rows
        assert [r["request"] for r in rows] == ["GET /servlet?key=OK", "GET /screencapture?format=png"], rows
    finally:
        b.close()
        rebind.close()
