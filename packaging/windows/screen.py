#!/usr/bin/env python3
"""Finds a tray icon's colour in a screenshot of wine's virtual desktop (the smoke test's step 5).

    screen.py SHOT.xwd R,G,B [OUT.png]

Reads an X window dump (`xwd -root`, 24 or 32 bits per pixel) and prints how many pixels of the
bottom 40 rows (wine's taskbar, where its notification area is) are within 24 of R,G,B in every
channel; with OUT.png, also writes it there (for people: the screenshot the smoke test keeps).
"""
import struct
import sys
import zlib


def read_xwd(path):
    data = open(path, "rb").read()
    head = struct.unpack(">25I", data[:100])
    header_size, width, height, byte_order = head[0], head[4], head[5], head[7]
    bytes_per_pixel, bytes_per_line, colours = head[11] // 8, head[12], head[19]
    start = header_size + colours * 12
    rows = []
    for y in range(height):
        line = data[start + y * bytes_per_line : start + y * bytes_per_line + width * bytes_per_pixel]
        row = []
        for x in range(width):
            pixel = line[x * bytes_per_pixel : (x + 1) * bytes_per_pixel]
            if byte_order:  # MSBFirst: xRGB
                pixel = pixel[::-1]
            row.append((pixel[2], pixel[1], pixel[0]))  # LSBFirst: BGR(x)
        rows.append(row)
    return width, height, rows


def write_png(path, width, height, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\0" + bytes(c for pixel in row for c in pixel) for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    shot, colour = sys.argv[1], tuple(int(v) for v in sys.argv[2].split(","))
    width, height, rows = read_xwd(shot)
    if len(sys.argv) > 3:
        write_png(sys.argv[3], width, height, rows)
    near = sum(
        all(abs(a - b) <= 24 for a, b in zip(pixel, colour)) for row in rows[-40:] for pixel in row
    )
    print(near)


if __name__ == "__main__":
    main()
