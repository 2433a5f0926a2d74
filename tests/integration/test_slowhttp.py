"""slowhttptest (Debian's slowhttptest) against aurid over HTTP and HTTPS (issue 5):
slowloris (-H, headers that never end) and slow body (-B, a POST body a few
bytes at a time).  While the attack runs from 127.0.0.1, a legitimate client on
127.0.0.2 (on the allow list) presses OK every 0.5 s with credentials, and
every one of its requests must succeed within 2 s.

aurid runs with max_connections 64 and 32 per source: 200 attacking connections
would take every slot without the per-source cap.  The request deadline
(header_timeout_ms) is 4 s so that slow connections are cut during the 15 s
attack.  The control test sets the per-source cap to the global cap and shows
that the legitimate client is then starved: the main test can fail."""

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from harness import ADMIN_PASSWORD, free_port, wait_for

SLOWHTTPTEST = shutil.which("slowhttptest")

pytestmark = pytest.mark.skipif(SLOWHTTPTEST is None,
                                reason="slowhttptest is not installed (packaging/dev/test-deps.txt)")

MAX_CONNECTIONS = 64
PER_SOURCE = 32
ATTACK_SECONDS = 15
LEGIT_SOURCE = "127.0.0.2"


def start_aurid(make_aurid, per_source=PER_SOURCE):
    tls_port = free_port()
    a = make_aurid({
        "aurid.https.listen": "127.0.0.1:%d" % tls_port,
        "features.action_uri_limit_ip": "127.0.0.1,%s" % LEGIT_SOURCE,
        "aurid.http.max_connections": str(MAX_CONNECTIONS),
        "aurid.http.max_connections_per_source": str(per_source),
        "aurid.http.header_timeout_ms": "4000",
        "aurid.http.idle_timeout_ms": "4000",
    })
    a.tls_port = tls_port
    assert wait_for(lambda: legit_request(a, "https")[0] == 200, timeout=10), a.read_log()[-2000:]
    return a


def base_url(a, scheme):
    return "%s://127.0.0.1:%d" % (scheme, a.tls_port if scheme == "https" else a.port)


def legit_request(a, scheme):
    """One action request from the legitimate source: (HTTP status or error text, seconds)."""
    args = ["curl", "-sS", "--interface", LEGIT_SOURCE, "--max-time", "2", "-o", "/dev/null",
            "-w", "%{http_code}", "-u", "admin:" + ADMIN_PASSWORD]
    if scheme == "https":
        args += ["--cacert", os.path.join(a.state, "https.crt")]
    args.append(base_url(a, scheme) + "/servlet?key=OK")
    t0 = time.time()
    r = subprocess.run(args, capture_output=True, text=True, timeout=10)
    secs = time.time() - t0
    if r.returncode != 0:
        return "curl exit %d: %s" % (r.returncode, r.stderr.strip()), secs
    return int(r.stdout), secs


def attacker_connections(port):
    """aurid's established connections on port from the attacking source (127.0.0.1)."""
    r = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d )" % port],
                       capture_output=True, text=True)
    n = 0
    for line in r.stdout.splitlines():
        fields = line.split()
        # Recv-Q Send-Q Local Peer (state is filtered, so not shown)
        if len(fields) >= 4 and fields[3].startswith("127.0.0.1:"):
            n += 1
    return n


def run_attack(a, scheme, mode):
    """Runs slowhttptest while the legitimate client polls; returns
    (legit results, max attacker connections seen, slowhttptest output)."""
    port = a.tls_port if scheme == "https" else a.port
    args = [SLOWHTTPTEST, mode, "-c", "200", "-r", "20", "-i", "1", "-l", str(ATTACK_SECONDS), "-p", "3",
            # -s: a Content-Length aurid accepts (4096, HTTP_BODY_MAX), so slow bodies are read, not refused 413.
            "-s", "4096", "-u", base_url(a, scheme) + "/servlet?key=OK"]
    attack = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    out = []
    reader = threading.Thread(target=lambda: out.append(attack.stdout.read()))
    reader.start()
    results, peak = [], 0
    try:
        # Let the attack fill its share of slots first.
        wait_for(lambda: attacker_connections(port) >= PER_SOURCE // 2, timeout=5)
        deadline = time.time() + ATTACK_SECONDS - 4
        while time.time() < deadline and attack.poll() is None:
            peak = max(peak, attacker_connections(port))
            t0 = time.time()
            results.append(legit_request(a, scheme))
            peak = max(peak, attacker_connections(port))
            time.sleep(max(0, 0.5 - (time.time() - t0)))
        attack.wait(timeout=ATTACK_SECONDS + 30)
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        reader.join(timeout=10)
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", "".join(out))
    return results, peak, text


def summary(text):
    """The last status block of slowhttptest's output."""
    blocks = text.split("slow HTTP test status on")
    return blocks[-1][:400] if len(blocks) > 1 else text[-1500:]


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("mode", ["-H", "-B"], ids=["slowloris", "slowbody"])
def test_legitimate_client_survives_slow_attack(make_aurid, scheme, mode):
    a = start_aurid(make_aurid)
    http_pid = a.pids("aurid-http")
    results, peak, text = run_attack(a, scheme, mode)
    print("%s %s: %d legitimate requests, slowest %.3f s, attacker peak %d connections; %s" % (
        scheme, mode, len(results), max(s for _, s in results), peak, " ".join(summary(text).split())))
    assert len(results) >= 12, (results, text[-2000:])
    failed = [(r, "%.2f s" % s) for r, s in results if r != 200 or s > 2.0]
    assert not failed, "legitimate requests failed during %s over %s: %s\nattack: %s" % (
        mode, scheme, failed, summary(text))
    # The attack did happen and was held to the per-source cap (a few accepted
    # sockets may still wait in the listen queue when ss looks).
    assert PER_SOURCE // 2 <= peak <= PER_SOURCE + 4, (peak, summary(text))
    assert "connected" in text, text[-2000:]
    # aurid-http neither crashed nor was restarted, and still answers.
    assert a.pids("aurid-http") == http_pid
    assert legit_request(a, scheme)[0] == 200
    status, _, _ = a.curl("/servlet?key=OK")
    assert status == 200
    assert len(a.presses()) >= len(results)


def test_control_without_per_source_cap_legit_client_starves(make_aurid):
    """With the per-source cap as large as the global one, the same slowloris
    takes every slot and the legitimate client is refused: what the main test
    would see if the per-source cap did not hold."""
    a = start_aurid(make_aurid, per_source=MAX_CONNECTIONS)
    results, peak, text = run_attack(a, "http", "-H")
    failed = [r for r, s in results if r != 200 or s > 2.0]
    assert failed, "the legitimate client was never refused: %s\nattack: %s" % (results, summary(text))
    assert peak > PER_SOURCE, peak
