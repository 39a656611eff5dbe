"""Plain PyTorch training that records nothing: the peer bench/pytorch.ts measures the recorder against.

The same network as the recorder's (Linear layers, ReLU between, softmax cross-entropy, plain SGD), on
the same digits (written by bench/pytorch.ts as raw float32 images and uint8 labels), shuffled every
epoch, whole batches only. Prints one JSON line: torch's version, the BLAS library it runs on, and
steps/s for each measurement of --steps steps after a warm-up.

    python3 bench/pytorch-train.py --data DIR --layers 128,64 --batch 64 --steps 3000 --rounds 1 --threads 1
"""

import argparse
import json
import os
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--layers", default="128,64")
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--rounds", type=int, default=1)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(1)
meta = json.load(open(os.path.join(args.data, "meta.json")))
images = np.fromfile(os.path.join(args.data, "images.f32"), dtype=np.float32).reshape(meta["count"], meta["inputSize"])
labels = np.fromfile(os.path.join(args.data, "labels.u8"), dtype=np.uint8).astype(np.int64)
x = torch.from_numpy(images)
y = torch.from_numpy(labels)

sizes = [meta["inputSize"]] + [int(size) for size in args.layers.split(",")] + [meta["classes"]]
modules = []
for index in range(len(sizes) - 1):
    modules.append(torch.nn.Linear(sizes[index], sizes[index + 1]))
    if index < len(sizes) - 2:
        modules.append(torch.nn.ReLU())
model = torch.nn.Sequential(*modules)
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
loss_function = torch.nn.CrossEntropyLoss()

order = torch.randperm(len(y))
position = 0


def train(steps):
    """`steps` SGD steps on whole shuffled batches; the last loss."""
    global order, position
    loss = None
    for _ in range(steps):
        if position + args.batch > len(y):
            order = torch.randperm(len(y))
            position = 0
        batch = order[position : position + args.batch]
        position += args.batch
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
    return float(loss)


def blas():
    """The BLAS this process runs on: MKL from torch's build settings; else the library behind the
    `libblas.so` torch links (Debian picks it with update-alternatives: reference BLAS, OpenBLAS or
    BLIS), else an OpenBLAS or BLIS linked directly. An OpenBLAS LAPACK beside a reference BLAS is
    still a reference BLAS: the products go through libblas."""
    if "BLAS_INFO=mkl" in torch.__config__.show():
        return "MKL"
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if ".so" in path:
                mapped.add(path)

    def kind(paths):
        text = " ".join(paths + [os.path.realpath(path) for path in paths]).lower()
        return "OpenBLAS" if "openblas" in text else "BLIS" if "blis" in text else "MKL" if "mkl" in text else None

    blas_libraries = [path for path in mapped if os.path.basename(path).startswith("libblas.so")]
    if blas_libraries:
        return kind(blas_libraries) or "reference BLAS (" + ", ".join(sorted(os.path.realpath(path) for path in blas_libraries)) + ")"
    return kind([path for path in mapped if "blas" in path.lower() or "blis" in path.lower() or "mkl" in path.lower()]) or "unknown BLAS"


train(200)
rates = []
for _ in range(args.rounds):
    started = time.perf_counter()
    last_loss = train(args.steps)
    rates.append(args.steps / (time.perf_counter() - started))
print(json.dumps({"torch": torch.__version__, "blas": blas(), "threads": torch.get_num_threads(), "stepsPerSecond": rates, "lastLoss": last_loss}))
