"""Writes the /my page's app icons (crisis_ct/web/static/icons/icon-<size>.png): a white
ring and dot on the app's blue, drawn pixel by pixel so no imaging library is needed.
Run from the repository root: `python3 tools/make_icons.py`; the PNGs are committed."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

BLUE = (0x0B, 0x53, 0x94)
WHITE = (0xFF, 0xFF, 0xFF)
SIZES = (192, 512)
OUT = Path(__file__).resolve().parents[1] / "crisis_ct" / "web" / "static" / "icons"


def _pixel(x: float, y: float) -> tuple[int, int, int]:
    # Coordinates in 0..1; the shapes stay inside the central 80 % ("maskable" safe zone).
    distance = ((x - 0.5) ** 2 + (y - 0.5) ** 2) ** 0.5
    if 0.26 <= distance <= 0.34 or distance <= 0.11:
        return WHITE
    return BLUE


def png(size: int) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(_pixel((i + 0.5) / size, (j + 0.5) / size)) for i in range(size))
                    for j in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (OUT / f"icon-{size}.png").write_bytes(png(size))
        print(OUT / f"icon-{size}.png")
