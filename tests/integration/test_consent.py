"""The consent prompt on the simulated phone: drawn on fb.raw, answered on the
physical keypad (the sim FIFO, through `aurictl sim press`)."""

import os
import subprocess
import threading
import time

import pytest

from harness import BUILD, key_code, wait_for

W, H = 480, 272


@pytest.fixture
def phone(make_aurid):
    a = make_aurid({"features.show_action_uri_option": "1", "aurid.consent.timeout": "5",
                    "features.action_uri_limit_ip": "127.0.0.1,127.0.0.2"})
    fb = os.path.join(a.state, "sim", "fb.raw")
    # Something on the screen, so that restoring it can be checked.
    with open(fb, "r+b") as f:
        f.write(bytes((i * 7) & 0xff for i in range(W * H * 4)))
    return a


def screen(a):
    with open(os.path.join(a.state, "sim", "fb.raw"), "rb") as f:
        return f.read()


class Request(threading.Thread):
    """A request that is held while the prompt is up."""

    def __init__(self, a, path, **kw):
        super().__init__()
        self.a, self.path, self.kw, self.result = a, path, kw, None
        self.start()

    def run(self):
        self.result = self.a.curl(self.path, timeout=20, **self.kw)


def golden(tmp_path, before, source):
    d = tmp_path / "golden"
    (d / "sim").mkdir(parents=True)
    (d / "sim" / "fb.raw").write_bytes(before)
    out = subprocess.run([os.path.join(BUILD, "tests", "render_prompt"), str(d), str(W), str(H), source],
                         capture_output=True, text=True, check=True).stdout.split()
    return (d / "sim" / "fb.raw").read_bytes(), [int(v) for v in out]


def changed_rect(before, after):
    xs, ys = [], []
    for i in range(0, len(before), 4):
        if before[i:i + 4] != after[i:i + 4]:
            xs.append((i // 4) % W)
            ys.append((i // 4) // W)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def test_prompt_then_ok_runs_the_held_request(phone, tmp_path):
    before = screen(phone)
    req = Request(phone, "/servlet?key=OK")
    assert wait_for(lambda: screen(phone) != before, timeout=5), "no prompt drawn"
    time.sleep(0.2)
    shown = screen(phone)
    want, (x, y, w, h) = golden(tmp_path, before, "127.0.0.1")
    # Exactly the project's own rendering, and only inside the prompt's box.
    assert shown == want
    cx0, cy0, cx1, cy1 = changed_rect(before, shown)
    assert x <= cx0 and y <= cy0 and cx1 < x + w and cy1 < y + h
    assert phone.presses() == []            # held, nothing reached the phone yet
    assert req.is_alive()
    phone.aurictl("sim", "press", "OK")
    req.join(10)
    status, _, body = req.result
    assert status == 200, body
    assert phone.presses() == [key_code("KEY_OK")]
    assert wait_for(lambda: screen(phone) == before, timeout=3), "screen not restored"
    rows = phone.aurictl("consent", "list", "--json").stdout
    assert "127.0.0.1" in rows
    # Consent is remembered: the next request runs at once.
    assert phone.curl("/servlet?key=1")[0] == 200
    assert len(phone.presses()) == 2


def test_cancel_refuses_and_restores_the_screen(phone):
    before = screen(phone)
    req = Request(phone, "/servlet?key=OK")
    assert wait_for(lambda: screen(phone) != before, timeout=5)
    phone.aurictl("sim", "press", "X")
    req.join(10)
    assert req.result[0] == 403 and "refused" in req.result[2]
    assert phone.presses() == []
    assert wait_for(lambda: screen(phone) == before, timeout=3)
    assert screen(phone) == before          # byte for byte
    assert phone.audit()[-1]["reason"] == "consent-denied"


def test_timeout_refuses(make_aurid):
    a = make_aurid({"features.show_action_uri_option": "1", "aurid.consent.timeout": "1"})
    t0 = time.time()
    status, _, _ = a.curl("/servlet?key=OK", timeout=10)
    assert status == 403 and 0.9 < time.time() - t0 < 5
    assert a.audit()[-1]["reason"] == "consent-timeout"
    assert a.presses() == []


def test_injected_key_cannot_answer_and_other_sources_wait(phone):
    # 127.0.0.2 gets consent first.
    start = screen(phone)
    first = Request(phone, "/servlet?key=1", source="127.0.0.2")
    assert wait_for(lambda: screen(phone) != start, timeout=5)
    phone.aurictl("sim", "press", "OK")
    first.join(10)
    assert first.result[0] == 200
    assert phone.presses() == [key_code("KEY_NUMERIC_1")]
    before = screen(phone)
    # Now 127.0.0.1 asks: a prompt for it.
    held = Request(phone, "/servlet?key=2")
    assert wait_for(lambda: screen(phone) != before, timeout=5)
    # 127.0.0.2 (with consent) sends OK remotely while the prompt is up: it is
    # injected through uinput/keys.out, never read as an answer, and it waits.
    remote = Request(phone, "/servlet?key=OK", source="127.0.0.2")
    time.sleep(0.6)
    assert held.is_alive() and remote.is_alive()
    assert phone.presses() == [key_code("KEY_NUMERIC_1")]   # nothing reached the phone
    phone.aurictl("sim", "press", "OK")
    held.join(10)
    remote.join(10)
    assert held.result[0] == 200 and remote.result[0] == 200
    assert phone.presses()[1:] == [key_code("KEY_NUMERIC_2"), key_code("KEY_OK")]


def test_consent_survives_restart_and_revoke_brings_the_prompt_back(phone):
    before = screen(phone)
    req = Request(phone, "/servlet?key=OK")
    assert wait_for(lambda: screen(phone) != before, timeout=5)
    phone.aurictl("sim", "press", "OK")
    req.join(10)
    assert req.result[0] == 200
    phone.stop()
    phone.start()
    assert phone.curl("/servlet?key=OK")[0] == 200      # no prompt after a restart
    phone.aurictl("consent", "revoke", "127.0.0.1")
    r = phone.aurictl("consent", "revoke", "127.0.0.1", check=False)
    assert r.returncode == 1
    before = screen(phone)
    req = Request(phone, "/servlet?key=OK")
    assert wait_for(lambda: screen(phone) != before, timeout=5), "prompt did not come back"
    phone.aurictl("sim", "press", "cancel")
    req.join(10)
    assert req.result[0] == 403


def test_sim_press_errors(phone):
    r = phone.aurictl("sim", "press", "NOSUCHKEY", check=False)
    assert r.returncode == 1 and r.stderr.strip()
