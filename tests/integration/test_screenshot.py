"""Screenshots of the simulated screen, decoded by an independent decoder (Pillow)."""

import io
import os
import struct

import pytest
from PIL import Image

W, H = 480, 272


def pattern(w, h):
    """A known XRGB8888 frame: gradients, solid blocks and single pixels."""
    px = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            if x < w // 3:
                r, g, b = (x * 255) // (w // 3), (y * 255) // h, 128
            elif x < 2 * w // 3:
                r, g, b = (255, 0, 0) if (y // 16) % 2 else (0, 0, 255)
            else:
                r, g, b = 20, 200, 60
            struct.pack_into("<I", px, (y * w + x) * 4, (r << 16) | (g << 8) | b)
    for (x, y, c) in ((0, 0, 0xffffff), (w - 1, h - 1, 0x123456), (w // 2, h // 2, 0xabcdef)):
        struct.pack_into("<I", px, (y * w + x) * 4, c)
    return bytes(px)


def expected_rgb(frame, w, h):
    out = bytearray(w * h * 3)
    for i in range(w * h):
        v = struct.unpack_from("<I", frame, i * 4)[0]
        out[i * 3:i * 3 + 3] = bytes(((v >> 16) & 255, (v >> 8) & 255, v & 255))
    return bytes(out)


@pytest.fixture
def shot(make_aurid):
    a = make_aurid()
    frame = pattern(W, H)
    with open(os.path.join(a.state, "sim", "fb.raw"), "r+b") as f:
        f.write(frame)
    return a, expected_rgb(frame, W, H)


def fetch(a, path, **kw):
    import subprocess
    from harness import ADMIN_PASSWORD
    args = ["curl", "-sS", "-g", "--max-time", "10", "-u", "admin:" + ADMIN_PASSWORD, "-D", "-", "-o", "-"]
    for h in kw.get("headers", ()):
        args += ["-H", h]
    out = subprocess.run(args + [a.url(path)], capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), hdrs, body


def test_bmp_default_pixel_exact(shot):
    a, want = shot
    status, hdrs, body = fetch(a, "/screencapture")
    assert status == 200 and hdrs["content-type"] == "image/bmp"
    img = Image.open(io.BytesIO(body))
    assert img.format == "BMP" and img.size == (W, H)
    assert img.convert("RGB").tobytes() == want
    row = a.audit()[-1]
    assert row["reason"] == "ok" and str(row["seq"]) == hdrs["x-request-id"]


def test_png_pixel_exact_by_query_and_accept(shot):
    a, want = shot
    for path, headers in (("/screencapture?format=png", ()), ("/screencapture", ("Accept: image/png",))):
        status, hdrs, body = fetch(a, path, headers=headers)
        assert status == 200 and hdrs["content-type"] == "image/png"
        img = Image.open(io.BytesIO(body))
        assert img.format == "PNG" and img.size == (W, H)
        assert img.convert("RGB").tobytes() == want


def test_jpeg_within_error(shot):
    a, want = shot
    status, hdrs, body = fetch(a, "/screencapture?format=jpeg")
    assert status == 200 and hdrs["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(body))
    assert img.format == "JPEG" and img.size == (W, H)
    got = img.convert("RGB").tobytes()
    diffs = [abs(x - y) for x, y in zip(got, want)]
    mean = sum(diffs) / len(diffs)
    # Quality 85, 4:2:0: a lossy codec, bounded error on this pattern.
    assert mean < 4.0, mean


def test_download_and_legacy_paths(shot):
    a, want = shot
    status, hdrs, body = fetch(a, "/screencapture/download")
    assert status == 200 and hdrs["content-type"] == "image/jpeg"
    assert hdrs["content-disposition"].startswith("attachment; filename=\"")
    assert hdrs["content-disposition"].endswith(".jpg\"")
    assert Image.open(io.BytesIO(body)).size == (W, H)
    for path in ("/servlet?command=screenshot", "/servlet?m=mod_action&command=screenshot"):
        status, hdrs, body = fetch(a, path)
        assert status == 200 and hdrs["content-type"] == "image/bmp", path
        assert Image.open(io.BytesIO(body)).convert("RGB").tobytes() == want


def test_bad_format_and_policy(shot):
    a, _ = shot
    status, _, _ = fetch(a, "/screencapture?format=gif")
    assert status == 400
    assert a.audit()[-1]["reason"] == "bad-request"
    assert a.curl("/screencapture", source="127.0.0.2")[0] == 403
    assert a.curl("/screencapture", user=None)[0] == 401
    assert [r["reason"] for r in a.audit()][-2:] == ["not-allowed", "auth"]


def test_capability_off(make_aurid):
    a = make_aurid({"aurid.allow.screenshot": "0"})
    assert a.curl("/screencapture")[0] == 403
    assert a.audit()[-1]["reason"] == "capability"
