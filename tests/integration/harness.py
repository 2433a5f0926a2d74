"""Runs the real aurid binaries with a temporary config and state directory on
loopback ports, and drives them with real clients (curl, aurictl)."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

BUILD = os.environ.get("AURID_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("AURID_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ADMIN_PASSWORD = "correct-horse-42"

# struct input_event on 64-bit Linux: struct timeval (2 x long), u16 type, u16 code, s32 value.
EVENT = struct.Struct("@qqHHi")
EV_SYN, EV_KEY = 0, 1
KEY_CODES = {}


def key_code(name):
    """Linux key code of a KEY_... name, read from the kernel's header."""
    if not KEY_CODES:
        with open("/usr/include/linux/input-event-codes.h") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "#define" and parts[1].startswith("KEY_"):
                    try:
                        KEY_CODES[parts[1]] = int(parts[2], 0)
                    except ValueError:
                        pass
    return KEY_CODES[name]


def free_port():
    """A TCP port free on 127.0.0.1 that no other test peer was given."""
    from sipclient import free_udp_tcp_port
    return free_udp_tcp_port(udp=False)


class Aurid:
    """One running aurid (supervisor + children) with a simulated phone."""

    def __init__(self, extra=None, start=True):
        self.dir = tempfile.mkdtemp(prefix="aurid-test-")
        # The children may run as other users (when root): let them in.
        os.chmod(self.dir, 0o755)
        self.state = os.path.join(self.dir, "state")
        self.run = os.path.join(self.dir, "run")
        self.port = free_port()
        self.cfg_path = os.path.join(self.dir, "aurid.cfg")
        self.cfg = {
            "aurid.state_dir": self.state,
            "aurid.run_dir": self.run,
            "aurid.hal": "sim",
            "aurid.http.listen": "127.0.0.1:%d" % self.port,
            "aurid.https.listen": "",
            "aurid.sip.listen": "",
            "aurid.admin.password": ADMIN_PASSWORD,
            "features.action_uri_limit_ip": "127.0.0.1",
            "features.show_action_uri_option": "0",
            "aurid.keypad.pace_ms": "50",
            "aurid.rate.per_second": "1000",
            "aurid.rate.burst": "1000",
        }
        self.cfg.update(extra or {})
        self.proc = None
        self.log_path = os.path.join(self.dir, "aurid.log")
        self.write_config()
        if start:
            self.start()

    def write_config(self):
        with open(self.cfg_path, "w") as f:
            f.write("#!version:1.0.0.1\n# test config\n")
            for k, v in self.cfg.items():
                f.write("%s = %s\n" % (k, v))

    def start(self, timeout=10):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BUILD, "aurid"), "-c", self.cfg_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("aurid exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            if os.path.exists(self.admin_sock) and self._http_up() and self._exec_up():
                return
            time.sleep(0.05)
        raise RuntimeError("aurid did not come up:\n" + self.read_log())

    @property
    def admin_sock(self):
        return os.path.join(self.run, "admin.sock")

    def _http_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _exec_up(self):
        r = self.aurictl("status", "--json", check=False)
        if r.returncode != 0:
            return False
        try:
            st = json.loads(r.stdout.splitlines()[0])
        except (ValueError, IndexError):
            return False
        # With aurid.sip.listen set, aurid-sip must be up too.
        return st.get("http_connected", False) and (not self.cfg.get("aurid.sip.listen")
                                                    or st.get("sip_connected", False))

    def status(self):
        return json.loads(self.aurictl("status", "--json").stdout.splitlines()[0])

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        if getattr(self, "log", None):
            self.log.close()
        return rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- clients ---

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def curl(self, path, user="admin", password=ADMIN_PASSWORD, headers=(), source=None, method=None,
             extra=(), timeout=10, userinfo=None):
        """Returns (status, headers dict (lower-case names), body text)."""
        args = ["curl", "-sS", "-g", "--max-time", str(timeout), "-D", "-", "-o", "-"]
        if user is not None:
            args += ["-u", "%s:%s" % (user, password)]
        for h in headers:
            args += ["-H", h]
        if source:
            args += ["--interface", source]
        if method:
            args += ["-X", method]
        args += list(extra)
        url = self.url(path)
        if userinfo:
            url = url.replace("http://", "http://%s@" % userinfo, 1)
        args.append(url)
        out = subprocess.run(args, capture_output=True, timeout=timeout + 5)
        if out.returncode != 0:
            raise RuntimeError("curl failed (%d): %s" % (out.returncode, out.stderr.decode()))
        raw = out.stdout.decode(errors="replace")
        head, _, body = raw.partition("\r\n\r\n")
        # An authentication round (curl --digest) shows every response: keep the last.
        while body.startswith("HTTP/") and "\r\n\r\n" in body:
            head, _, body = body.partition("\r\n\r\n")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs, body

    def aurictl(self, *args, input=None, check=True):
        r = subprocess.run([os.path.join(BUILD, "aurictl"), "-s", self.admin_sock] + list(args),
                           input=input, capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise RuntimeError("aurictl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
        return r

    def audit(self, *filters):
        r = self.aurictl("audit", "--json", "--limit", "1000", *filters)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    # --- the simulated phone ---

    def events(self):
        """Every input_event aurid injected: list of (type, code, value, time_s)."""
        path = os.path.join(self.state, "sim", "keys.out")
        if not os.path.exists(path):
            return []
        with open(path, "rb") as f:
            data = f.read()
        assert len(data) % EVENT.size == 0, "keys.out holds a partial record"
        out = []
        for i in range(0, len(data), EVENT.size):
            sec, usec, typ, code, value = EVENT.unpack_from(data, i)
            out.append((typ, code, value, sec + usec / 1e6))
        return out

    def presses(self):
        """Key codes pressed, checking that each press is key 1, SYN, key 0, SYN."""
        ev = self.events()
        assert len(ev) % 4 == 0, ev
        codes = []
        for i in range(0, len(ev), 4):
            (t1, c1, v1, _), (t2, _, _, _), (t3, c3, v3, _), (t4, _, _, _) = ev[i:i + 4]
            assert (t1, v1, t2, t3, c3, v3, t4) == (EV_KEY, 1, EV_SYN, EV_KEY, c1, 0, EV_SYN), ev[i:i + 4]
            codes.append(c1)
        return codes

    def press_times(self):
        ev = self.events()
        return [ev[i][3] for i in range(0, len(ev), 4)]

    def pids(self, name):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-x", name], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


def raw_exchange(port, raw, timeout=5):
    """Sends raw bytes to 127.0.0.1:port, closes the sending side and
    returns everything the server wrote until it closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data


def hooks_built():
    """The build honours the test-only hooks (AURID_TEST_HOOKS=ON)."""
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        return "AURID_TEST_HOOKS:BOOL=ON" in f.read()


def wait_for(pred, timeout=5, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
