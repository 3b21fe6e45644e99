#!/usr/bin/env python3
"""Draws the agent's icons (no dependencies beyond the standard library).

One 32x32 PNG per link state (agent.md §16 colours: a filled circle with a darker ring), the
RGBA the tray compiles in, and botmox-agent.ico (16, 32, 48 px, the "online" green) for the
.exe and the installer. Run it again after changing a colour: python3 make-icons.py
"""
import struct
import zlib
from pathlib import Path

STATES = {
    "idle": (128, 128, 128),
    "connecting": (255, 200, 0),
    "online": (0, 180, 0),
    "error": (220, 50, 50),
    "revoked": (100, 100, 100),
}


def circle(size, rgb):
    """RGBA rows, top to bottom: an anti-aliased disc with a darker 1/8 ring."""
    c = (size - 1) / 2
    r_out = size / 2 - 0.5
    r_in = r_out - max(1.0, size / 8)
    dark = tuple(int(v * 0.6) for v in rgb)
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            # 4x4 supersampling for the edges.
            inside = ring = 0
            for sy in range(4):
                for sx in range(4):
                    dx = x - c + (sx - 1.5) / 4
                    dy = y - c + (sy - 1.5) / 4
                    d = (dx * dx + dy * dy) ** 0.5
                    if d <= r_out:
                        inside += 1
                        if d > r_in:
                            ring += 1
            if inside == 0:
                row += bytes(4)
                continue
            t = ring / inside
            col = [round(a * (1 - t) + b * t) for a, b in zip(rgb, dark)]
            row += bytes(col + [round(255 * inside / 16)])
        rows.append(bytes(row))
    return rows


def png(size, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(images):
    """A classic ICO: 32-bit BGRA DIBs (bottom-up) with an AND mask, readable by NSIS too."""
    entries, blobs = [], []
    offset = 6 + 16 * len(images)
    for size, rows in images:
        xor = b"".join(bytes(b for px in range(size) for b in (r[4 * px + 2], r[4 * px + 1], r[4 * px], r[4 * px + 3])) for r in reversed(rows))
        mask_stride = ((size + 31) // 32) * 4
        mask = bytes(mask_stride * size)
        header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, len(xor) + len(mask), 0, 0, 0, 0)
        blob = header + xor + mask
        entries.append(struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return struct.pack("<HHH", 0, 1, len(images)) + b"".join(entries) + b"".join(blobs)


def main():
    here = Path(__file__).resolve().parent
    for name, rgb in STATES.items():
        rows = circle(32, rgb)
        (here / f"{name}.png").write_bytes(png(32, rows))
        (here / f"{name}.rgba").write_bytes(b"".join(rows))
    (here / "botmox-agent.ico").write_bytes(ico([(s, circle(s, STATES["online"])) for s in (16, 32, 48)]))


if __name__ == "__main__":
    main()
