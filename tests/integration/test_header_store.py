"""The kept-header store of aurid-http against hostile header sections.

The overflow of issue 9 item 1: a repeated Accept with another kept header
between the copies made the old store copy the first value again, outgrow
its buffer and write past it.  Each request here goes over a raw socket
from a source that is not on the allow list, with no credentials; aurid-http
must answer it clearly (401, or 400/431 when a kept header is refused) and
keep running with the same pid.
"""

import itertools

import pytest

from harness import raw_exchange as exchange

HEADERS_MAX = 8192


def status_of(answer):
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def request(headers, line=b"GET /servlet?key=OK HTTP/1.1"):
    return line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"


@pytest.fixture
def aurid(make_aurid):
    # Nobody is allowed: what reaches the executor is refused, audited, and pressed nothing.
    return make_aurid({"features.action_uri_limit_ip": "10.9.9.9"})


def test_the_reported_overflow_request(aurid):
    pid = aurid.pids("aurid-http")
    raw = request([(b"Accept", b"A" * 4100), (b"Host", b"h"), (b"Accept", b"BB"),
                   (b"Sec-Fetch-Site", b"S" * 2000)])
    assert len(raw) > 6000
    for _ in range(3):
        st = status_of(exchange(aurid.port, raw))
        assert st == 431
    assert aurid.pids("aurid-http") == pid
    assert aurid.presses() == []
    # A clear answer for a normal request afterwards, from the same process.
    st, _, _ = aurid.curl("/servlet?key=OK")
    assert st == 403


def test_repeated_kept_headers_in_every_order(aurid):
    pid = aurid.pids("aurid-http")
    kept = [b"Accept", b"Host", b"Authorization", b"Sec-Fetch-Site", b"Sec-Fetch-Mode",
            b"Sec-Fetch-Dest", b"Origin"]
    seen = set()
    for a, b in itertools.permutations(kept, 2):
        for la in (10, 1000, 4100):
            raw = request([(a, b"a" * la), (b, b"b"), (a, b"c" * 2), (b"X-Pad", b"p" * 1500)])
            st = status_of(exchange(aurid.port, raw))
            # Accept joins; a second copy of any other kept header is refused.
            assert st in (400, 401, 403, 431), (a, b, la, st)
            if a != b"Accept":
                assert st in (400, 431), (a, b, la, st)
            seen.add(st)
    assert 400 in seen and 431 in seen
    assert aurid.pids("aurid-http") == pid
    assert aurid.presses() == []


@pytest.mark.parametrize("name", [b"Accept", b"Authorization", b"Host", b"Sec-Fetch-Site", b"Origin"])
def test_lengths_around_every_boundary(aurid, name):
    pid = aurid.pids("aurid-http")
    line = b"GET /servlet?key=OK HTTP/1.1"
    for n in list(range(0, 40, 7)) + [250, 255, 256, 1023, 1024, 1025, 2048, 4095, 4096, 4097,
                                       5119, 5120, 5121, 8100, 8150, 8170, 8180, 8190, 8192, 8300]:
        raw = request([(name, b"v" * n), (b"Accept", b"w" * (n // 2))], line)
        answer = exchange(aurid.port, raw)
        st = status_of(answer)
        assert st in (400, 401, 403, 431), (name, n, st)
        if len(raw) > HEADERS_MAX + 64:
            assert st == 431, (name, n, st)
        # The refusal names the header it refused.
        if st == 431 and len(raw) <= HEADERS_MAX:
            assert b"too large" in answer
    assert aurid.pids("aurid-http") == pid


def test_chunked_trailers_are_not_kept(aurid):
    pid = aurid.pids("aurid-http")
    raw = (b"POST /servlet?key=OK HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n0\r\nAccept: " + b"A" * 3000 + b"\r\nAuthorization: Basic YWRtaW46eA==\r\n"
           b"Host: other\r\nSec-Fetch-Site: " + b"s" * 3000 + b"\r\n\r\n")
    st = status_of(exchange(aurid.port, raw))
    # The trailer's Host and Authorization are not a second copy: they are ignored.
    assert st == 405, st
    assert aurid.pids("aurid-http") == pid
