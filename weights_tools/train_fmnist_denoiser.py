#!/usr/bin/python3
"""Trains the small diffusion denoiser of the DDS experiments: an improved-diffusion UNet (epsilon prediction, cosine
schedule, 1000 steps) on Fashion-MNIST padded to 32x32, on the CPU with Debian's PyTorch. The network class comes from
the public improved-diffusion package, checked out outside this repository (never committed here):

    git clone https://github.com/openai/improved-diffusion /tmp/refcode/improved-diffusion
    /usr/bin/python3 weights_tools/train_fmnist_denoiser.py --refcode /tmp/refcode --minutes 25

Writes models/fmnist_iddpm_small.pt ({'state_dict', 'flags', 'steps', 'loss'}); convert it with the flags it
stores (printed at the end), e.g.

    smoothcuda convert models/fmnist_iddpm_small.pt fmnist_unet.safetensors --arch iddpm_unet --in_channels 1 ...
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

FMNIST = "/usr/share/datasets/fashion-mnist"
FLAGS = dict(image_size=32, in_channels=1, num_channels=32, num_res_blocks=1, num_heads=4, attention_resolutions="8",
             learn_sigma=False, use_scale_shift_norm=True, dropout=0.0, diffusion_steps=1000, noise_schedule="cosine",
             rescale_timesteps=True)


def load_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    x = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return F.pad(torch.from_numpy(x), (2, 2, 2, 2))  # 28x28 -> 32x32 with zero (black) borders


def cosine_alphas_cumprod(steps):
    abar = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = np.array([min(1 - abar((i + 1) / steps) / abar(i / steps), 0.999) for i in range(steps)])
    return torch.tensor(np.cumprod(1.0 - betas), dtype=torch.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refcode", default="/tmp/refcode")
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models",
                                                  "fmnist_iddpm_small.pt"))
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.refcode, "improved-diffusion"))
    from improved_diffusion.unet import UNetModel

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x_all = load_images(f"{FMNIST}/train-images-idx3-ubyte.gz") * 2 - 1
    net = UNetModel(in_channels=1, model_channels=FLAGS["num_channels"], out_channels=1,
                    num_res_blocks=FLAGS["num_res_blocks"], attention_resolutions=(32 // 8,), dropout=0.0,
                    channel_mult=(1, 2, 2, 2), num_heads=FLAGS["num_heads"], use_scale_shift_norm=True)
    abar = cosine_alphas_cumprod(FLAGS["diffusion_steps"])
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)
    start, step, ema = time.time(), 0, None
    while time.time() - start < args.minutes * 60:
        idx = torch.randint(0, len(x_all), (64,))
        x0 = x_all[idx]
        t = torch.randint(0, FLAGS["diffusion_steps"], (64,))
        a = abar[t].view(-1, 1, 1, 1)
        eps = torch.randn_like(x0)
        loss = F.mse_loss(net(a.sqrt() * x0 + (1 - a).sqrt() * eps, t.float()), eps)  # rescaled t = t·1000/1000
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.99 * ema + 0.01 * loss.item()
        if step % 50 == 0:
            print(f"step {step}: loss {ema:.4f} ({time.time() - start:.0f} s)", flush=True)
    flags = {k: str(v) for k, v in FLAGS.items()}
    torch.save({"state_dict": net.state_dict(), "flags": flags, "steps": step, "loss": ema}, args.out)
    print("wrote", args.out, "after", step, "steps; convert with:")
    print("  smoothcuda convert", args.out, "UNET.safetensors --arch iddpm_unet",
          " ".join(f"--{k} {v}" for k, v in flags.items() if k != "dropout"))


if __name__ == "__main__":
    main()
