#!/usr/bin/env python3
"""Reference reader of the headwater.dense.v1 head artifact (schemas/head-artifact-v1.md).

Usage: python3 head_artifact.py UPDATE.json EMBEDDING.json
  UPDATE.json    a model update as read from the model-updates topic
  EMBEDDING.json a JSON array of floats (the backbone's embedding of one input)
Prints {"labels": [...], "probabilities": [...], "label": "...", "version": N} as JSON.
Needs only Python 3 and NumPy.
"""
import base64
import hashlib
import json
import struct
import sys

import numpy as np

MAGIC = 0x48444E31
ACTIVATIONS = {0: "identity", 1: "relu", 2: "softmax"}


def read_head(data: bytes):
    """Returns (labels, layers); each layer is (weights [out, in], bias [out], activation)."""
    magic, version, n_labels = struct.unpack_from("<ihi", data, 0)
    if magic != MAGIC or version != 1:
        raise ValueError(f"not a headwater.dense.v1 artifact (magic {magic:#x}, version {version})")
    off = 10
    labels = []
    for _ in range(n_labels):
        (n,) = struct.unpack_from("<i", data, off)
        labels.append(data[off + 4:off + 4 + n].decode("utf-8"))
        off += 4 + n
    (n_layers,) = struct.unpack_from("<i", data, off)
    off += 4
    layers = []
    for _ in range(n_layers):
        n_in, n_out, act = struct.unpack_from("<iiB", data, off)
        off += 9
        w = np.frombuffer(data, "<f4", n_in * n_out, off).reshape(n_out, n_in)
        off += 4 * n_in * n_out
        b = np.frombuffer(data, "<f4", n_out, off)
        off += 4 * n_out
        layers.append((w, b, ACTIVATIONS[act]))
    if off != len(data):
        raise ValueError(f"{len(data) - off} trailing bytes")
    return labels, layers


def apply(layers, embedding):
    x = np.asarray(embedding, dtype=np.float64)
    for w, b, act in layers:
        x = w.astype(np.float64) @ x + b
        if act == "relu":
            x = np.maximum(x, 0)
        elif act == "softmax":
            e = np.exp(x - x.max())
            x = e / e.sum()
    return x


def main(update_path, embedding_path):
    with open(update_path) as f:
        update = json.load(f)
    data = base64.b64decode(update["artifact"]["data"])
    if hashlib.sha256(data).hexdigest() != update["artifact"]["sha256"]:
        raise SystemExit("artifact does not match its sha256: refusing it")
    labels, layers = read_head(data)
    with open(embedding_path) as f:
        p = apply(layers, json.load(f))
    print(json.dumps({"labels": labels, "probabilities": p.tolist(), "label": labels[int(p.argmax())],
                      "version": update["version"]}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
