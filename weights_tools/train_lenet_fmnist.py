#!/usr/bin/python3
"""Trains the demo model: LeNet-5 on Fashion-MNIST with Gaussian noise augmentation (Cohen et al.'s recipe:
x + N(0, sigma^2) on [0,1] inputs), on the CPU with Debian's PyTorch (python3-torch) in a few minutes.

    /usr/bin/python3 weights_tools/train_lenet_fmnist.py [--sigma 0.25] [--epochs 15] [--out models/NAME]

Writes NAME.pt: torch.save of {'arch', 'state_dict', 'noise_sd', 'test_accuracy', ...}, as a user's checkpoint
would be; `smoothcuda convert` turns it into a model file (scripts/demo.sh). Fashion-MNIST comes from Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). The run is seeded; PyTorch's CPU kernels may still
differ in the last bits between machines, so a re-run gives an equivalent, not an identical, model.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class LeNet(nn.Module):
    """The smoothcuda `lenet` layout: conv1, conv2, fc1, fc2, fc3 (28x28 input: fc1 takes 16*4*4)."""

    def __init__(self, classes=10, channels=1, side=28):
        super().__init__()
        s = ((side - 4) // 2 - 4) // 2
        self.conv1 = nn.Conv2d(channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * s * s, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--out", default=None)
    ap.add_argument("--pad", type=int, default=0, help="zero-pad the images (2: 32x32, the DDS denoiser's size)")
    args = ap.parse_args()
    out = args.out or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models",
                                   f"lenet_fmnist{32 if args.pad == 2 else ''}_sigma{args.sigma:.2f}")
    torch.manual_seed(0)
    np.random.seed(0)
    xtr = torch.tensor(load_idx(f"{FMNIST}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    ytr = torch.tensor(load_idx(f"{FMNIST}/train-labels-idx1-ubyte.gz"), dtype=torch.int64)
    xte = torch.tensor(load_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    yte = torch.tensor(load_idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
    if args.pad:
        xtr, xte = F.pad(xtr, (args.pad,) * 4), F.pad(xte, (args.pad,) * 4)
    mean, std = [0.2860], [0.3530]  # Fashion-MNIST training-set statistics; normalization is the first layer
    m, s = torch.tensor(mean).view(1, 1, 1, 1), torch.tensor(std).view(1, 1, 1, 1)

    model = LeNet(side=28 + 2 * args.pad)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, args.epochs // 3), gamma=0.3)
    for epoch in range(args.epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            x = xtr[idx] + torch.randn_like(xtr[idx]) * args.sigma  # noise in [0,1] pixel space
            loss = F.cross_entropy(model((x - m) / s), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            clean = (model((xte - m) / s).argmax(1) == yte).float().mean().item()
            noisy = (model((xte + torch.randn_like(xte) * args.sigma - m) / s).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}: clean acc {clean:.4f}, noisy acc {noisy:.4f} ({time.time() - t0:.0f} s)", flush=True)

    # The clean test accuracy as PyTorch computes it: a converted model must reproduce it.
    torch.save({"epoch": args.epochs, "arch": "lenet", "state_dict": model.state_dict(), "noise_sd": args.sigma,
                "mean": mean, "std": std, "test_accuracy": clean}, out + ".pt")
    print("wrote", out + ".pt")


if __name__ == "__main__":
    main()
