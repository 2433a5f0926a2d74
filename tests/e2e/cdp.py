"""Headless Chromium (Debian's chromium) driven over the Chrome DevTools
Protocol with python3-websocket, for the e2e tests.  Import it after
pytest.importorskip("websocket")."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

from harness import wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Without these, Chromium reaches for Google's hosts (closed network here) at every start.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


class Browser:
    """One headless Chromium with a fresh profile and a CDP connection to its page."""

    def __init__(self, flags=()):
        self.dir = tempfile.mkdtemp(prefix="aurid-chromium-")
        self.log = open(os.path.join(self.dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen([CHROMIUM] + FLAGS + list(flags) +
                                     ["--user-data-dir=" + os.path.join(self.dir, "profile"), "about:blank"],
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

    def post(self, method, **params):
        """Sends a command without waiting for its answer (Page.navigate answers only
        once the paused request it starts is continued)."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def send(self, method, **params):
        """Sends a command and returns its result; events that arrive meanwhile are queued."""
        mid = self.post(method, **params)
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
        return json.loads(self.ws.recv())

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def wait_until(self, expression, timeout=20):
        """Polls a JavaScript expression until it is truthy; returns its value (or the last falsy one)."""
        deadline = time.time() + timeout
        while True:
            try:
                v = self.evaluate(expression)
            except AssertionError:
                v = None   # between two documents
            if v or time.time() > deadline:
                return v
            time.sleep(0.1)

    def screenshot(self, path):
        """Writes a PNG of the page to path."""
        import base64
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def click(self, selector):
        """A real mouse click (pressed, released: user activation) at the middle of the element."""
        box = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                            " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

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
