"""A real headless Chromium for the tests that check what a person sees: the DOM after the browser
parsed the page, and a screenshot whose pixels can be counted (a small PNG reader, no imaging library)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    found = os.environ.get("MEDALLION_CHROMIUM") or next(filter(None, map(shutil.which, CANDIDATES)), None)
    if not found:
        pytest.fail("No headless browser found: apt-get install chromium (or set MEDALLION_CHROMIUM)")
    return found


def _run(*arguments: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )


def dump_dom(page: Path) -> str:
    return _run("--dump-dom", page.resolve().as_uri()).stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2000, scale: float = 0.25) -> Path:
    """A screenshot of the laid-out page, scaled down so counting its pixels in Python stays quick."""
    _run(
        f"--screenshot={out}",
        f"--window-size={width},{height}",
        f"--force-device-scale-factor={scale}",
        page.resolve().as_uri(),
    )
    return out


def pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), f"unsupported PNG (depth {depth}, colour type {colour})"
    step = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b"".join(chunks)), width * step, [], bytearray(width * step)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return (
        width,
        height,
        [bytes(r) for r in rows] if step == 3 else [bytes(b for i, b in enumerate(r) if i % 4 != 3) for r in rows],
    )


def count_colours(png: Path, colours: dict[str, tuple[int, int, int]], tolerance: int = 8) -> dict[str, int]:
    """How many pixels are (within ``tolerance``) each of these colours, in one pass over the image."""
    _, _, rows = pixels(png)
    found = dict.fromkeys(colours, 0)
    for row in rows:
        for i in range(0, len(row), 3):
            pixel = row[i : i + 3]
            for name, rgb in colours.items():
                if (
                    abs(pixel[0] - rgb[0]) <= tolerance
                    and abs(pixel[1] - rgb[1]) <= tolerance
                    and abs(pixel[2] - rgb[2]) <= tolerance
                ):
                    found[name] += 1
    return found
