#!/usr/bin/python3
"""Trains Headwater's bundled image backbone, fashion-cnn, and exports it to ONNX.

A 3-block CNN (93,962 parameters) is trained on all 60,000 training images of
Fashion-MNIST (Debian package dataset-fashion-mnist, all 10 classes); the 10,000
test images are held out (data/fashion-heldout.jsonl.gz is made from them).
The graph is exported with torch.onnx.export at opset 13 with two outputs:

  feature_map  float32 [batch, 128, 7, 7]  last conv block, after ReLU
  logits       float32 [batch, 10]         the source task's classifier

Headwater uses feature_map, global-average-pooled to 128 values (config
backbone.image.output=feature_map, backbone.image.pooling=mean); logits are
kept so that the source accuracy can be checked from the exported file.

Input: "image", float32 [batch, 1, 28, 28], pixels scaled to [0, 1] and then
normalised with mean 0.2860 and std 0.3530 (the training set's), as written in
the graph's metadata (headwater.image.*).

Also writes services/backbone/src/test/resources/fashion-cnn-reference.json:
the model's outputs in PyTorch for the first 8 held-out images (and those
images as the PNGs the data set holds), which
BundledImageBackboneTest compares with ONNX Runtime's.

Packages used (Debian bookworm): python3-torch 1.13.1+dfsg-4,
python3-torchvision 0.14.1-2 (not imported; listed because it came with the
reference setup), python3-onnx 1.12.0-2+b4, python3-numpy 1:1.24.2-1+deb12u1,
dataset-fashion-mnist 0.0~git20200523.55506a9-1.

Usage: nice -n 10 /usr/bin/python3 tools/image-backbone/train_fashion_cnn.py
(about 10 minutes on 2 shared cores). The result is deterministic for a given
machine and thread count, but not bit-identical across machines, so a rerun
changes the SHA-256 that BundledImageBackboneTest checks.
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASET = "/usr/share/datasets/fashion-mnist"
MODEL_OUT = os.path.join(ROOT, "services/backbone/src/main/resources/fashion-cnn.onnx")
REFERENCE_OUT = os.path.join(ROOT, "services/backbone/src/test/resources/fashion-cnn-reference.json")
MEAN = 0.2860
STD = 0.3530
SEED = 20261202
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(128)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)   # 32 x 14 x 14
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)   # 64 x 7 x 7
        feature_map = F.relu(self.bn3(self.conv3(x)))          # 128 x 7 x 7
        logits = self.fc(feature_map.mean(dim=(2, 3)))
        return feature_map, logits


def to_input(images):
    return ((torch.from_numpy(images.astype(np.float32)) / 255.0 - MEAN) / STD).unsqueeze(1)


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            _, logits = model(x[i:i + batch])
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    train_x = to_input(read_idx(f"{DATASET}/train-images-idx3-ubyte.gz"))
    train_y = torch.from_numpy(read_idx(f"{DATASET}/train-labels-idx1-ubyte.gz").astype(np.int64))
    test_images = read_idx(f"{DATASET}/t10k-images-idx3-ubyte.gz")
    test_x = to_input(test_images)
    test_y = torch.from_numpy(read_idx(f"{DATASET}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    print(f"train {tuple(train_x.shape)}, held out {tuple(test_x.shape)}", flush=True)

    model = FashionCnn()
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}", flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = (len(train_x) + 127) // 128
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=3e-3, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    generator = torch.Generator().manual_seed(SEED)
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        total = 0.0
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            _, logits = model(train_x[idx])
            loss = F.cross_entropy(logits, train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(train_x):.4f}, held-out accuracy "
              f"{accuracy(model, test_x, test_y):.4f}, {time.time() - started:.0f} s", flush=True)

    model.eval()
    os.makedirs(os.path.dirname(MODEL_OUT), exist_ok=True)
    dummy = test_x[:2]
    torch.onnx.export(
        model, dummy, MODEL_OUT, opset_version=13, do_constant_folding=True,
        input_names=["image"], output_names=["feature_map", "logits"],
        dynamic_axes={"image": {0: "batch"}, "feature_map": {0: "batch"}, "logits": {0: "batch"}})
    graph = onnx.load(MODEL_OUT)
    onnx.checker.check_model(graph)
    metadata = {
        "headwater.image.mean": str(MEAN),
        "headwater.image.std": str(STD),
        "headwater.image.channels": "1",
        "headwater.image.layout": "NCHW",
        "headwater.image.output": "feature_map",
        "headwater.image.pooling": "mean",
        "headwater.image.classes": ",".join(CLASSES),
        "headwater.source": "Fashion-MNIST training set (60,000 images, 10 classes), "
                            f"{args.epochs} epochs, seed {SEED}; "
                            "tools/image-backbone/train_fashion_cnn.py",
    }
    del graph.metadata_props[:]
    for key, value in metadata.items():
        entry = graph.metadata_props.add()
        entry.key = key
        entry.value = value
    graph.producer_name = "headwater"
    onnx.save(graph, MODEL_OUT)

    with torch.no_grad():
        feature_map, logits = model(test_x[:8])
    pooled = feature_map.mean(dim=(2, 3))
    with open(MODEL_OUT, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    sys.path.insert(0, os.path.join(ROOT, "data"))
    from prepare_images import png  # the encoder that made data/fashion-heldout.jsonl.gz
    reference = {
        "model": "fashion-cnn.onnx",
        "sha256": sha,
        "images": "data/fashion-heldout.jsonl.gz, first 8 rows (Fashion-MNIST t10k 0..7)",
        "labels": test_y[:8].tolist(),
        "pixels_sha256": hashlib.sha256(test_images[:8].tobytes()).hexdigest(),
        "png_base64": [base64.b64encode(png(list(img.reshape(-1)))).decode("ascii") for img in test_images[:8]],
        "pooled": [[round(v, 6) for v in row] for row in pooled.tolist()],
        "logits": [[round(v, 6) for v in row] for row in logits.tolist()],
        "heldout_accuracy": accuracy(model, test_x, test_y),
    }
    with open(REFERENCE_OUT, "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print(f"wrote {MODEL_OUT}: {os.path.getsize(MODEL_OUT)} bytes, sha256 {sha}")
    print(f"held-out accuracy {reference['heldout_accuracy']:.4f}; reference {REFERENCE_OUT}")


if __name__ == "__main__":
    sys.exit(main())
