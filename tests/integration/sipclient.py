"""A small SIP client for the tests: builds requests, sends them over UDP or TCP
from a chosen loopback address, and reads the responses.  Real peers (sipsak,
sipp, Kamailio) are used where they fit; this covers what they cannot send
(malformed, retransmitted with the same branch, from 127.0.0.2 over TCP)."""

import os
import random
import shutil
import socket
import subprocess
import time


def have(tool):
    return shutil.which(tool) is not None


def branch():
    return "z9hG4bK-%012x" % random.getrandbits(48)


def request(method="NOTIFY", body="key=OK", port=5060, host="127.0.0.1", via_port=5999,
            transport="UDP", event="ACTION-URI", ctype="message/sipfrag", extra=(), br=None,
            callid=None, cseq=1, clen=None, via_host="127.0.0.1"):
    """Bytes of one request; event/ctype None leave the header out."""
    body_b = body.encode() if isinstance(body, str) else body
    h = ["%s sip:phone@%s:%d SIP/2.0" % (method, host, port),
         "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (transport, via_host, via_port, br or branch()),
         "Max-Forwards: 70",
         "From: <sip:pbx@%s>;tag=f%x" % (via_host, random.getrandbits(32)),
         "To: <sip:phone@%s>" % host,
         "Call-ID: %s" % (callid or "%x@aurid-test" % random.getrandbits(64)),
         "CSeq: %d %s" % (cseq, method)]
    if event is not None:
        h.append("Event: " + event)
    if ctype is not None:
        h.append("Content-Type: " + ctype)
    h += list(extra)
    h.append("Content-Length: %d" % (len(body_b) if clen is None else clen))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body_b


class Response:
    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.code = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers.setdefault(k.strip().lower(), []).append(v.strip())

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def __repr__(self):
        return "<%d %s>" % (self.code, self.reason)


class Udp:
    """A UDP endpoint bound on a loopback address; request() fills in its port."""

    def __init__(self, port, src="127.0.0.1"):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.src = src
        self.local_port = self.sock.getsockname()[1]

    def request(self, **kw):
        kw.setdefault("port", self.port)
        kw.setdefault("via_port", self.local_port)
        kw.setdefault("via_host", self.src)
        return request(**kw)

    def send(self, data):
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def responses(self, timeout=2.0, until_final=True):
        """Responses until a final one (or the timeout)."""
        out = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                break
            r = Response(data)
            out.append(r)
            if until_final and r.code >= 200:
                break
        return out

    def ask(self, timeout=5.0, **kw):
        """One request, its final response (or None)."""
        self.send(self.request(**kw))
        finals = [r for r in self.responses(timeout) if r.code >= 200]
        return finals[0] if finals else None

    def close(self):
        self.sock.close()


class Tcp:
    def __init__(self, port, src="127.0.0.1"):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
        self.src = src
        self.local_port = self.sock.getsockname()[1]
        self.buf = b""

    def request(self, **kw):
        kw.setdefault("port", self.port)
        kw.setdefault("via_port", self.local_port)
        kw.setdefault("via_host", self.src)
        kw.setdefault("transport", "TCP")
        return request(**kw)

    def send(self, data):
        self.sock.sendall(data)

    def read_response(self, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                clen = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        clen = int(line.split(b":", 1)[1])
                if len(rest) >= clen:
                    self.buf = rest[clen:]
                    return Response(head + sep + rest[:clen])
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                return None
            self.buf += data

    def ask(self, timeout=5.0, **kw):
        self.send(self.request(**kw))
        while True:
            r = self.read_response(timeout)
            if r is None or r.code >= 200:
                return r

    def close(self):
        self.sock.close()


def sipsak(port, message, src="127.0.0.1", timeout=10):
    """sipsak sends the message file (exit 0 only for a 200); returns (rc, output)."""
    path = os.path.join("/tmp", "aurid-sipsak-%d-%x.sip" % (os.getpid(), random.getrandbits(32)))
    with open(path, "wb") as f:
        f.write(message)
    try:
        r = subprocess.run(["sipsak", "-vv", "-f", path, "-s", "sip:phone@127.0.0.1:%d" % port,
                            "-l", "0", "-H", src],
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr
    finally:
        os.unlink(path)


# Ports handed out in this test process.  Binding port 0 and closing lets the
# kernel hand the same port out again, so two ports picked for one aurid (HTTP
# and SIP) could collide; a port is never handed out twice here.
_given = set()


def free_udp_tcp_port(udp=True):
    """A port free on 127.0.0.1 for TCP (and UDP), not handed out before."""
    for _ in range(200):
        t = socket.socket()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if port in _given:
                continue
            if udp:
                u.bind(("127.0.0.1", port))
            _given.add(port)
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


if __name__ == "__main__":
    # python3 tests/integration/sipclient.py [PORT [BODY]]: one NOTIFY
    # Event: ACTION-URI over UDP from 127.0.0.1, printing every response.
    import sys
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5060
    u = Udp(port)
    u.send(u.request(body=sys.argv[2] if len(sys.argv) > 2 else "key=OK"))
    rs = u.responses(35)
    for r in rs:
        print(r.raw.split(b"\r\n\r\n")[0].decode(errors="replace") + "\n")
    sys.exit(0 if rs and rs[-1].code == 200 else 1)
