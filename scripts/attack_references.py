#!/usr/bin/python3
"""The reference attacks' own code on a LeNet (the demo model models/lenet_fmnist_sigma0.25.pt, or --model: a
checkpoint or a smoothcuda model file of the `lenet` architecture), on every SKIP-th Fashion-MNIST test
image, with Debian's PyTorch: what docs/attacks/README.md compares `smoothcuda attack` with.

    /usr/bin/python3 scripts/attack_references.py autoattack AUTOATTACK_SRC [--version standard|plus|rand]
        [--eps 0.1] [--sigma 0.25]
    /usr/bin/python3 scripts/attack_references.py ddn SMOOTHING_ADVERSARIAL_CODE [--ours attack.tsv]
    /usr/bin/python3 scripts/attack_references.py smoothadv-ddn SMOOTHING_ADVERSARIAL_CODE --out DIR

autoattack: fra31/auto-attack (its checkout's folder) in the l-infinity ball, version standard (APGD-CE,
  APGD-T, FAB-T, Square: compare `smoothcuda attack --attack apgd,apgd-t,fab-t,square --steps 100`), plus, or
  rand (APGD-CE and APGD-DLR with EOT over 20 draws) on the LeNet run as a randomized model, x -> lenet(x +
  N(0, sigma^2)). Prints AutoAttack's accuracy after each attack; for rand (each image judged by one fresh
  draw) also the accuracy over --draws fresh draws of the clean images and of the images AutoAttack returns:
  compare `smoothcuda attack --noise-sd 0.25 --attack apgd,apgd-dlr --steps 100 --eot 20`.
ddn: Hadisalman/smoothing-adversarial's DDN (code/attacks.py: Rony et al.'s attack, 256 levels; the folder of
  its attacks.py) on the LeNet without noise. Prints the l2 norm of each image's adversarial perturbation (0
  for images misclassified clean) as quantiles and the share fooled within 0.25, 0.5, 1 and 2; with --ours,
  the same for `smoothcuda attack --attack ddn --eps 100 --skip 20`'s attack.tsv.
smoothadv-ddn: the same code's SmoothAdv_DDN (DDN on the smoothed soft classifier, m noise copies, its
  budget from eps, the answer scaled into the eps-ball: how Salman et al. train) with --steps, --eps, --sigma,
  --m; writes DIR/adversarial.npy and DIR/labels.npy for `smoothcuda predict npy:...` to judge.
"""
import argparse
import csv
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights_tools"))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from pytorch_certify_bench import Normalized  # noqa: E402
from safetensors_py import read_safetensors  # noqa: E402
from train_lenet_fmnist import FMNIST, LeNet, load_idx  # noqa: E402


def load_lenet(path):
    """A LeNet checkpoint (torch.save of state_dict, mean, std) or smoothcuda model file, normalizing first."""
    if path.endswith(".safetensors"):
        tensors, meta = read_safetensors(path)
        assert meta["arch"] == "lenet", f"{path} is a {meta['arch']}, not a lenet"
        # A model trained without --mean/--std has no normalization.
        state, mean, std = tensors, [float(meta.get("mean", 0))], [float(meta.get("std", 1))]
    else:
        ck = torch.load(path, map_location="cpu")
        state, mean, std = ck["state_dict"], ck["mean"], ck["std"]
    net = LeNet()
    net.load_state_dict(state)
    return Normalized(net, mean, std).eval()


class Randomized(torch.nn.Module):
    """model(x + sigma * noise) with fresh noise at every call."""

    def __init__(self, model, sigma):
        super().__init__()
        self.model, self.sigma = model, sigma

    def forward(self, x):
        return self.model(x + self.sigma * torch.randn_like(x))


def accuracy_over_draws(model, x, y, draws):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for _ in range(draws)) / draws


def describe(name, norms):
    norms = sorted(norms)
    q = lambda p: norms[min(len(norms) - 1, int(p * (len(norms) - 1) + 0.5))]  # noqa: E731
    within = ", ".join(f"<= {t}: {100 * sum(v <= t for v in norms) / len(norms):.1f}%" for t in (0.25, 0.5, 1, 2))
    print(f"{name}: {len(norms)} images, mean {sum(norms) / len(norms):.4f}, quartiles {q(0.25):.4f} "
          f"{q(0.5):.4f} {q(0.75):.4f}; fooled {within}")


def autoattack(args, model, x, y):
    from autoattack import AutoAttack
    attacked = Randomized(model, args.sigma) if args.version == "rand" else model
    adversary = AutoAttack(attacked, norm="Linf", eps=args.eps, version=args.version, seed=args.seed, device="cpu")
    start = time.time()
    x_adv = adversary.run_standard_evaluation(x, y, bs=250)
    print(f"images {len(y)}, eps {args.eps}, version {args.version}, {time.time() - start:.1f} s")
    if args.version == "rand":
        print(f"over {args.draws} draws per image (sigma {args.sigma}): clean "
              f"{100 * accuracy_over_draws(attacked, x, y, args.draws):.2f}%, AutoAttack's images "
              f"{100 * accuracy_over_draws(attacked, x_adv, y, args.draws):.2f}%")


def ddn(args, model, x, y):
    from attacks import DDN
    start = time.time()
    adv = torch.cat([DDN(steps=args.steps).attack(model, x[i:i + 250], y[i:i + 250]) for i in range(0, len(y), 250)])
    seconds = time.time() - start
    with torch.no_grad():
        fooled = model(adv).argmax(1) != y
    norms = (adv - x).flatten(1).norm(dim=1)
    # An image DDN did not fool keeps no perturbation: it counts as beyond every threshold.
    describe(f"DDN (PyTorch, {seconds:.1f} s)", [n.item() if f else float("inf") for n, f in zip(norms, fooled)])
    if args.ours:
        with open(args.ours) as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        describe("smoothcuda", [float(r["l2"]) if r["success"] == "1" else float("inf") for r in rows])


def smoothadv_ddn(args, model, x, y):
    import numpy as np
    from attacks import DDN
    attacker = DDN(steps=args.steps, max_norm=args.eps, init_norm=args.eps)
    out = []
    for i in range(0, len(y), 50):
        xb, yb = x[i:i + 50], y[i:i + 50]
        copies = xb.repeat((1, args.m, 1, 1)).view(-1, *xb.shape[1:])
        noise = torch.randn_like(copies) * args.sigma
        out.append(attacker.attack(model, copies, yb, noise=noise, num_noise_vectors=args.m)[::args.m])
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "adversarial.npy"), torch.cat(out).numpy())
    np.save(os.path.join(args.out, "labels.npy"), y.numpy())
    print(f"wrote {args.out}/adversarial.npy and labels.npy ({len(y)} images)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("attack", choices=["autoattack", "ddn", "smoothadv-ddn"])
    ap.add_argument("code", help="the reference's source folder (see above)")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "models", "lenet_fmnist_sigma0.25.pt"))
    ap.add_argument("--version", default="standard", choices=["standard", "plus", "rand"], help="autoattack")
    ap.add_argument("--skip", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eps", type=float, default=0.1, help="autoattack: the l-infinity budget; smoothadv-ddn: l2")
    ap.add_argument("--sigma", type=float, default=0.25, help="autoattack (rand), smoothadv-ddn: the noise")
    ap.add_argument("--m", type=int, default=8, help="smoothadv-ddn: noise copies per image")
    ap.add_argument("--out", default="", help="smoothadv-ddn: the folder for its examples")
    ap.add_argument("--draws", type=int, default=100, help="autoattack (rand): draws per image for the accuracy")
    ap.add_argument("--steps", type=int, default=100, help="ddn, smoothadv-ddn: steps")
    ap.add_argument("--ours", default="", help="ddn: smoothcuda's attack.tsv to compare")
    args = ap.parse_args()
    sys.path.insert(0, args.code)
    model = load_lenet(args.model)
    x = torch.tensor(load_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(load_idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
    x, y = x[::args.skip].contiguous(), y[::args.skip].contiguous()
    torch.manual_seed(args.seed)
    {"autoattack": autoattack, "ddn": ddn, "smoothadv-ddn": smoothadv_ddn}[args.attack](args, model, x, y)


if __name__ == "__main__":
    main()
