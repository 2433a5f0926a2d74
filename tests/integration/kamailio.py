"""Kamailio 5.6 as the PBX side of the SIP tests and of bench/sip-notify: its
own config and runtime directory under a temporary directory, unprivileged, in
the foreground, on a free loopback port (never the system's 5060)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from sipclient import free_udp_tcp_port

MODULE_DIRS = ["/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules"]

# A registrar and proxy: REGISTER is saved (challenged with PASSWORD), any
# other request goes to the registered contact.  fix_nated_register() stores
# the source address of the REGISTER, so a NOTIFY to a TCP registration goes
# back over the registration's own connection.
REGISTRAR = """
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "nathelper.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "received_avp", "$avp(RECEIVED)")

request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (is_method("REGISTER")) {
		if (!pv_www_authenticate("$td", "%(password)s", "0")) {
			www_challenge("$td", "0");
			exit;
		}
		fix_nated_register();
		if (!save("location")) sl_reply_error();
		exit;
	}
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
	t_relay();
}
"""

# The benchmark's anchor: every NOTIFY answered 200 without state.
STATELESS = """
request_route {
	sl_send_reply("200", "OK");
	exit;
}
"""


def available():
    return shutil.which("kamailio") is not None and shutil.which("kamcmd") is not None


def _port_in_use(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        finally:
            s.close()
    return False


class Kamailio:
    def __init__(self, routes="registrar", password="secret", children=2):
        self.dir = tempfile.mkdtemp(prefix="aurid-kamailio-")
        os.chmod(self.dir, 0o755)
        self.port = free_udp_tcp_port()
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        self.pidfile = os.path.join(self.dir, "kamailio.pid")
        self.log_path = os.path.join(self.dir, "kamailio.log")
        mpath = next((d for d in MODULE_DIRS if os.path.isdir(d)), None)
        head = ["#!KAMAILIO",
                "debug=2", "log_stderror=yes", "children=%d" % children, "tcp_children=%d" % children,
                "auto_aliases=no",
                "listen=udp:127.0.0.1:%d" % self.port, "listen=tcp:127.0.0.1:%d" % self.port,
                'alias="127.0.0.1:%d"' % self.port]
        if mpath:
            head.append('mpath="%s/"' % mpath)
        for m in ("kex", "corex", "tm", "tmx", "sl", "pv", "maxfwd", "textops", "siputils", "xlog", "ctl"):
            head.append('loadmodule "%s.so"' % m)
        head.append('modparam("ctl", "binrpc", "unix:%s")' % self.ctl)
        body = REGISTRAR % {"password": password} if routes == "registrar" else STATELESS
        with open(self.cfg, "w") as f:
            f.write("\n".join(head) + "\n" + body)
        self.proc = None

    def start(self, timeout=10):
        if _port_in_use(self.port):
            raise RuntimeError("port %d is taken" % self.port)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["kamailio", "-DD", "-E", "-f", self.cfg, "-Y", self.dir, "-P", self.pidfile],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kamailio exited %s:\n%s" % (self.proc.returncode, self.read_log()))
            if os.path.exists(self.ctl) and self._tcp_up():
                return self
            time.sleep(0.05)
        raise RuntimeError("kamailio did not come up:\n" + self.read_log())

    def _tcp_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def kamcmd(self, *args, timeout=40):
        return subprocess.run(["kamcmd", "-s", "unix:" + self.ctl] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def notify(self, user, body="key=OK", extra=""):
        """A NOTIFY originated by Kamailio for user, through its own routing
        (to itself, then lookup + relay): the final response code."""
        headers = ("From: <sip:pbx@127.0.0.1:%d>;tag=kam%d\r\nTo: <sip:%s@127.0.0.1>\r\n"
                   "Event: ACTION-URI\r\nContent-Type: message/sipfrag\r\n%s" % (self.port, time.time_ns(), user, extra))
        r = self.kamcmd("tm.t_uac_wait_block", "NOTIFY", "sip:%s@127.0.0.1:%d" % (user, self.port), ".", ".",
                        headers, body)
        m = re.search(r"code:\s*(\d+)", r.stdout)
        if not m:
            raise RuntimeError("kamcmd: %s %s" % (r.stdout, r.stderr))
        return int(m.group(1))

    def contacts(self, user):
        """The registered contacts of user: list of (address, received)."""
        r = self.kamcmd("ul.lookup", "location", user)
        out = []
        for block in r.stdout.split("Contact: {")[1:]:
            addr = re.search(r"Address:\s*(\S+)", block)
            recv = re.search(r"Received:\s*(\S+)", block)
            out.append((addr.group(1) if addr else None, recv.group(1) if recv else None))
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
