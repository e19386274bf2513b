#!/usr/bin/python3
"""The from-scratch CNN baseline of `headwater evaluate` on the bundled image tasks.

Trains fashion-cnn's architecture (train_fashion_cnn.FashionCnn, 94,410
parameters) from random initialisation on the same labelled examples that
`headwater evaluate DATA --budgets ...` draws, and scores it on the same
held-out split: the shuffles are java.util.Random and Collections.shuffle,
re-implemented here bit for bit (seed 42, test fraction 0.2, draw r of budget
b shuffled with seed + 1000 b + r). No pretrained weights are used.

Recipe (fixed in advance, no tuning on the held-out split): Adam lr 1e-3,
weight decay 1e-4, batch 32, max(15 epochs, 300 steps), inputs normalised as
fashion-cnn's. Packages: as train_fashion_cnn.py.

Usage: nice -n 10 /usr/bin/python3 tools/image-backbone/scratch_baseline.py \
           data/mnist-digits.jsonl.gz [--budgets 50,100,500,1000,5000] [--repeats 3]
Prints one Markdown row per budget: labels, mean held-out accuracy, the draws.
"""
import argparse
import base64
import gzip
import json
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_cnn import FashionCnn, MEAN, STD  # noqa: E402

MASK = (1 << 48) - 1


class JavaRandom:
    """java.util.Random: the 48-bit linear congruential generator and nextInt(bound)."""

    def __init__(self, seed):
        self.seed = (seed ^ 0x5DEECE66D) & MASK

    def next(self, bits):
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & MASK
        value = self.seed >> (48 - bits)
        return value - (1 << bits) if value >= 1 << (bits - 1) and bits == 32 else value

    def next_int(self, bound):
        if bound & (bound - 1) == 0:
            return (bound * self.next(31)) >> 31
        while True:
            bits = self.next(31)
            value = bits % bound
            if bits - value + (bound - 1) < (1 << 31):
                return value


def java_shuffle(items, seed):
    """Collections.shuffle(list, new Random(seed)) on a copy."""
    items = list(items)
    rnd = JavaRandom(seed)
    for i in range(len(items), 1, -1):
        j = rnd.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]
    return items


def decode_png(data):
    """The 8-bit greyscale, filter-0 PNGs that data/prepare_images.py writes."""
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if depth != 8 or colour != 0:
        raise SystemExit("only the bundled 8-bit greyscale PNGs are supported")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows = [raw[r * (width + 1):(r + 1) * (width + 1)] for r in range(height)]
    if any(row[0] != 0 for row in rows):
        raise SystemExit("unexpected PNG filter")
    return np.frombuffer(b"".join(row[1:] for row in rows), dtype=np.uint8).reshape(height, width)


def train_and_score(x, y, test_x, test_y, classes, seed):
    torch.manual_seed(seed)
    model = FashionCnn()
    model.fc = torch.nn.Linear(128, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    steps_per_epoch = (len(x) + 31) // 32
    epochs = max(15, -(-300 // steps_per_epoch))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            if len(idx) < 2:
                continue  # batch norm needs two
            _, logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 1000])[1].argmax(1) == test_y[i:i + 1000]).sum().item()
                      for i in range(0, len(test_x), 1000))
    return correct / len(test_x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--budgets", default="50,100,500,1000,5000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with gzip.open(args.data, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = java_shuffle(rows, args.seed)
    n_test = int(np.floor(len(rows) * args.test_fraction + 0.5))  # Math.round
    test, train = rows[:n_test], rows[n_test:]
    labels = sorted({r["label"] for r in rows})
    index = {label: i for i, label in enumerate(labels)}

    def tensors(subset):
        images = np.stack([decode_png(base64.b64decode(r["image"])) for r in subset]).astype(np.float32)
        x = ((torch.from_numpy(images) / 255.0 - MEAN) / STD).unsqueeze(1)
        return x, torch.tensor([index[r["label"]] for r in subset])

    test_x, test_y = tensors(test)
    print(f"{args.data}: {len(train)} training and {len(test)} held-out examples, {len(labels)} labels",
          file=sys.stderr, flush=True)
    print("| labels | cnn-from-scratch | draws |\n|---:|---:|---|")
    for budget in [int(b) for b in args.budgets.split(",")]:
        if budget > len(train):
            continue
        accuracies = []
        for r in range(args.repeats):
            draw = java_shuffle(train, args.seed + 1000 * budget + r)[:budget]
            x, y = tensors(draw)
            started = time.time()
            accuracies.append(train_and_score(x, y, test_x, test_y, len(labels), args.seed + r))
            print(f"  budget {budget}, draw {r}: {accuracies[-1]:.4f} ({time.time() - started:.0f} s)",
                  file=sys.stderr, flush=True)
        print(f"| {budget} | {np.mean(accuracies):.4f} | {' '.join(f'{a:.4f}' for a in accuracies)} |", flush=True)


if __name__ == "__main__":
    main()
