#!/usr/bin/python3
"""AutoAttack's own rand version (fra31/auto-attack, version='rand': APGD-CE and APGD-DLR, 100 steps, EOT over
20 draws) on the demo LeNet run as a randomized model, x -> lenet(x + N(0, sigma^2)), on every SKIP-th
Fashion-MNIST test image: the reference for `smoothcuda attack --noise-sd SIGMA --eot 20
--attack apgd,apgd-dlr` (docs/attacks/README.md, "Randomized models").

    /usr/bin/python3 scripts/autoattack_rand_reference.py AUTOATTACK_SRC [--eps 0.1] [--sigma 0.25] [--skip 20]

AUTOATTACK_SRC: a checkout of github.com/fra31/auto-attack (its autoattack/ package). Prints AutoAttack's
robust accuracy after each attack (each image judged by one fresh draw, as it judges) and the accuracy over
--draws fresh draws per image of the clean images and of the images AutoAttack returns.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights_tools"))
from train_lenet_fmnist import FMNIST, LeNet, load_idx  # noqa: E402


class Randomized(torch.nn.Module):
    """lenet((x + sigma * noise - mean) / std) with fresh noise at every call."""

    def __init__(self, net, sigma, mean, std):
        super().__init__()
        self.net, self.sigma = net, sigma
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return self.net((x + self.sigma * torch.randn_like(x) - self.mean) / self.std)


def accuracy_over_draws(model, x, y, draws):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for _ in range(draws)) / draws


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("autoattack_src")
    ap.add_argument("--checkpoint", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                          "models", "lenet_fmnist_sigma0.25.pt"))
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--skip", type=int, default=20)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sys.path.insert(0, args.autoattack_src)
    from autoattack import AutoAttack

    ck = torch.load(args.checkpoint, map_location="cpu")
    net = LeNet()
    net.load_state_dict(ck["state_dict"])
    model = Randomized(net, args.sigma, ck["mean"], ck["std"]).eval()
    x = torch.tensor(load_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(load_idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
    x, y = x[::args.skip].contiguous(), y[::args.skip].contiguous()
    torch.manual_seed(args.seed)
    adversary = AutoAttack(model, norm="Linf", eps=args.eps, version="rand", seed=args.seed,
                           device="cpu")
    start = time.time()
    x_adv = adversary.run_standard_evaluation(x, y, bs=250)
    print(f"images {len(y)}, eps {args.eps}, sigma {args.sigma}, {time.time() - start:.1f} s")
    print(f"over {args.draws} draws per image: clean {100 * accuracy_over_draws(model, x, y, args.draws):.2f}%, "
          f"AutoAttack's images {100 * accuracy_over_draws(model, x_adv, y, args.draws):.2f}%")


if __name__ == "__main__":
    main()
