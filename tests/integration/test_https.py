"""HTTPS (issue 5): curl with Basic and Digest over TLS, the generated
certificate (SANs, kept across restarts), old protocols and CBC suites
refused, audit rows saying https, and no key material in aurid-http."""

import base64
import os
import re
import socket
import subprocess
import time

import pytest

from harness import ADMIN_PASSWORD, free_port, wait_for


@pytest.fixture
def tls(make_aurid):
    port = free_port()
    a = make_aurid({"aurid.https.listen": "127.0.0.1:%d" % port})
    a.tls_port = port
    wait_for(lambda: https_up(a), timeout=10)
    return a


def https_up(a):
    r = subprocess.run(["curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                        "https://127.0.0.1:%d/servlet?key=OK" % a.tls_port], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout == "401"


def cert_path(a):
    return os.path.join(a.state, "https.crt")


def key_path(a):
    return os.path.join(a.state, "https.key")


def curl_https(a, path, extra=(), user="admin", password=ADMIN_PASSWORD):
    args = ["curl", "-sS", "-g", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}",
            "--cacert", cert_path(a)]
    if user is not None:
        args += ["-u", "%s:%s" % (user, password)]
    args += list(extra) + ["https://127.0.0.1:%d%s" % (a.tls_port, path)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def s_client(a, *opts):
    """openssl s_client: (exit code, output).  Exit 0 and a cipher line = a handshake."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % a.tls_port] + list(opts),
                       input="", capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def fingerprint(path):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def private_scalar(path):
    """The 32-byte private scalar of the PEM key (PKCS#8 around SEC1 ECPrivateKey), by hand:
    ECPrivateKey is SEQUENCE { INTEGER 1, OCTET STRING (32) d, ... }."""
    with open(path) as f:
        pem = f.read()
    der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
    i = der.find(b"\x02\x01\x01\x04\x20")
    assert i >= 0, "no SEC1 private key in %s" % path
    return der[i + 5:i + 37]


def memory_holds(pid, needle):
    """Searches every readable mapping of pid for needle."""
    found = False
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1]:
                continue
            path = fields[5] if len(fields) > 5 else ""
            if path in ("[vvar]", "[vsyscall]"):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            # Sanitizer builds reserve terabytes of shadow: nothing of ours lives there.
            if hi - lo > (1 << 30):
                continue
            # In chunks that overlap by len(needle) - 1, so nothing straddles unseen.
            at = lo
            while at < hi and not found:
                try:
                    mem.seek(at)
                    data = mem.read(min(CHUNK + len(needle) - 1, hi - at))
                except (OSError, OverflowError, ValueError):
                    break
                found = needle in data
                at += CHUNK
            if found:
                break
    return found


CHUNK = 16 << 20


def test_basic_and_digest_over_https(tls):
    status, body = curl_https(tls, "/servlet?key=OK")
    assert status == 200, body
    status, body = curl_https(tls, "/servlet?key=OK", extra=["--digest"])
    assert status == 200, body
    status, _ = curl_https(tls, "/servlet?key=OK", password="wrong")
    assert status == 401
    assert len(tls.presses()) == 2
    rows = tls.audit()
    assert rows and all(r["transport"] == "https" for r in rows), rows
    # Plain HTTP on the other socket is still plain.
    status, _, _ = tls.curl("/servlet?key=OK")
    assert status == 200
    assert tls.audit()[-1]["transport"] == "http"


def test_keep_alive_and_pipelining_over_https(tls):
    """Several requests on one TLS connection (curl reuses it for URLs given together)."""
    url = "https://127.0.0.1:%d/servlet?key=OK" % tls.tls_port
    r = subprocess.run(["curl", "-sS", "--cacert", cert_path(tls), "-u", "admin:" + ADMIN_PASSWORD,
                        "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                        "-w", "%{http_code} %{num_connects}\n", url, url, url],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines == ["200", "1", "200", "0", "200", "0"], r.stdout


def test_generated_certificate(tls):
    text = subprocess.run(["openssl", "x509", "-in", cert_path(tls), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "ASN1 OID: prime256v1" in text or "NIST CURVE: P-256" in text, text
    assert "IP Address:127.0.0.1" in text, text
    assert "ecdsa-with-SHA256" in text
    m = re.search(r"Not After : (.*)", text)
    assert m and int(m.group(1).split()[-2]) >= time.gmtime().tm_year + 9
    st = os.stat(key_path(tls))
    assert st.st_mode & 0o077 == 0, oct(st.st_mode)
    before = fingerprint(cert_path(tls))
    tls.stop()
    tls.start()
    wait_for(lambda: https_up(tls), timeout=10)
    assert fingerprint(cert_path(tls)) == before
    # And it is the one served, not only the one on disk.
    status, _ = curl_https(tls, "/servlet?key=OK")
    assert status == 200


def test_wildcard_sans(make_aurid):
    port = free_port()
    a = make_aurid({"aurid.https.listen": "0.0.0.0:%d" % port})
    a.tls_port = port
    wait_for(lambda: https_up(a), timeout=10)
    text = subprocess.run(["openssl", "x509", "-in", cert_path(a), "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text, text
    assert "0.0.0.0" not in text


def test_old_protocols_and_cbc_refused(tls):
    rc, out = s_client(tls, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert rc == 0 and "ECDHE-ECDSA-AES128-GCM-SHA256" in out, out
    rc, out = s_client(tls, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0, out
    rc, out = s_client(tls, "-tls1_2", "-cipher", "AES128-SHA")
    assert rc != 0, out
    rc, out = s_client(tls, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
    assert rc != 0, out
    r = subprocess.run(["curl", "-sS", "-k", "--tls-max", "1.1", "--max-time", "5",
                        "https://127.0.0.1:%d/" % tls.tls_port], capture_output=True, text=True)
    assert r.returncode != 0
    # TLS 1.3 is served.
    rc, out = s_client(tls, "-tls1_3")
    assert rc == 0 and "TLSv1.3" in out, out


def test_handshake_timeout(make_aurid):
    port = free_port()
    a = make_aurid({"aurid.https.listen": "127.0.0.1:%d" % port, "aurid.http.header_timeout_ms": "500"})
    a.tls_port = port
    wait_for(lambda: https_up(a), timeout=10)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\x16\x03\x01")     # the start of a record, and then nothing
    s.settimeout(5)
    t0 = time.time()
    assert s.recv(100) == b""
    assert time.time() - t0 < 3
    s.close()
    assert https_up(a)


def test_redirect_to_https(make_aurid):
    port = free_port()
    a = make_aurid({"aurid.https.listen": "127.0.0.1:%d" % port, "aurid.http.redirect_https": "1"})
    a.tls_port = port
    status, hdrs, _ = a.curl("/servlet?key=OK", headers=["Host: phone.example:8080"])
    assert status == 301
    assert hdrs["location"] == "https://phone.example:%d/servlet?key=OK" % port
    assert a.presses() == []


def test_no_key_material_in_aurid_http(tls):
    # A few handshakes first, so that whatever aurid-http would keep is there.
    for _ in range(3):
        assert curl_https(tls, "/servlet?key=OK")[0] == 200
    d = private_scalar(key_path(tls))
    http = tls.pids("aurid-http")
    execp = tls.pids("aurid-exec")
    assert len(http) == 1 and len(execp) == 1
    # BoringSSL keeps a scalar as little-endian machine words: on a 64-bit
    # little-endian machine, the big-endian bytes reversed.  Both forms.
    forms = (d, d[::-1])
    assert not any(memory_holds(http[0], f) for f in forms), "the private key is in aurid-http's memory"
    # Control: the search does find it where it is.
    assert any(memory_holds(execp[0], f) for f in forms), "the search did not find the key in aurid-exec either"
