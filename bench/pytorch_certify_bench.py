#!/usr/bin/env python3
"""The PyTorch side of bench/certify_throughput.sh: certification sampling throughput of the same random-weight
classifier that `smoothcuda bench-certify --save-model` wrote, measured two ways in one process.

  cohen: the published algorithm of Cohen et al. (core.py's sampling loop): eager float32, NCHW, batch 1000,
         x.repeat, randn_like noise, argmax, class counts gathered on the host after every batch.
  best:  what a careful PyTorch user does: channels_last, bfloat16 autocast, noise and counts kept on the device
         (bincount), torch.compile (mode max-autotune, CUDA graphs) when available, the largest batch that fits.

With --denoiser (a diffusion model file from `bench-certify --save-denoiser`) the classifier sits behind Carlini et
al.'s one-shot diffusion denoiser (DDS), run on the classifier's input size (as they run the 256×256 ImageNet UNet
on 224×224 images) or, with --sample-shape, on the samples' size and resized to the classifier's (CIFAR-10's
32×32 denoised images to their ViT-B/16 at 224×224); "cohen" is then their published run (eager fp32, batch 200
on CIFAR-10).

Prints one JSON line per variant (samples/s and seconds per image at N0 + N). The architectures are written here
from their published descriptions (Cohen's CIFAR ResNet-110, torchvision's ResNet-50, Hugging Face's ViT, timm's BEiT,
improved- and guided-diffusion's UNets in bench/torch_unet.py) with the same key names, so the weights load strictly.
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "weights_tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
from safetensors_py import read_safetensors  # noqa: E402
from torch_archs import CifarResNet, relative_position_index  # noqa: E402  (as the test fixtures use them)
from torch_unet import OneShotDenoiser, UNet  # noqa: E402


class Bottleneck(nn.Module):
    """torchvision's bottleneck: 1x1, 3x3 (stride), 1x1 (x4 channels), projection shortcut where shapes change."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet50(nn.Module):
    """torchvision's resnet50 layout and key names."""

    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, stages = 64, []
        for i, (count, planes) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
            blocks = []
            for b in range(count):
                blocks.append(Bottleneck(cin, planes, 2 if (i > 0 and b == 0) else 1))
                cin = planes * 4
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _module(**children):
    """A plain module holding `children` under their names (for the nesting of Hugging Face's key names)."""
    m = nn.Module()
    for k, v in children.items():
        m.add_module(k, v)
    return m


class VitLayer(nn.Module):
    """Hugging Face's ViTLayer: pre-norm attention and GELU MLP, each with a residual; its key names."""

    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.heads = heads
        self.attention = _module(attention=_module(query=nn.Linear(dim, dim), key=nn.Linear(dim, dim),
                                                   value=nn.Linear(dim, dim)),
                                 output=_module(dense=nn.Linear(dim, dim)))
        self.intermediate = _module(dense=nn.Linear(dim, mlp))
        self.output = _module(dense=nn.Linear(mlp, dim))
        self.layernorm_before = nn.LayerNorm(dim, eps=1e-12)
        self.layernorm_after = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, z):
        B, T, C = z.shape
        a, att = self.layernorm_before(z), self.attention.attention
        q, k, v = (lin(a).view(B, T, self.heads, C // self.heads).transpose(1, 2) for lin in (att.query, att.key, att.value))
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v)
        else:  # PyTorch before 2.0
            o = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(C // self.heads), -1) @ v
        z = z + self.attention.output.dense(o.transpose(1, 2).reshape(B, T, C))
        return z + self.output.dense(F.gelu(self.intermediate.dense(self.layernorm_after(z))))


class Vit(nn.Module):
    """Hugging Face's ViTForImageClassification layout and key names (smoothcuda's arch vit; flags as there)."""

    def __init__(self, flags, shape, classes):
        super().__init__()
        patch, dim = int(flags.get("patch", 16)), int(flags.get("dim", 768))
        depth, heads, mlp = int(flags.get("depth", 12)), int(flags.get("heads", 12)), int(flags.get("mlp", 3072))
        tokens = (shape[1] // patch) * (shape[2] // patch) + 1
        embeddings = _module(patch_embeddings=_module(projection=nn.Conv2d(shape[0], dim, patch, patch)))
        embeddings.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        embeddings.position_embeddings = nn.Parameter(torch.zeros(1, tokens, dim))
        layers = nn.ModuleList([VitLayer(dim, heads, mlp) for _ in range(depth)])
        self.vit = _module(embeddings=embeddings, encoder=_module(layer=layers), layernorm=nn.LayerNorm(dim, eps=1e-12))
        self.classifier = nn.Linear(dim, classes)

    def forward(self, x):
        e = self.vit.embeddings
        p = e.patch_embeddings.projection(x).flatten(2).transpose(1, 2)
        z = torch.cat([e.cls_token.expand(x.shape[0], -1, -1), p], 1) + e.position_embeddings
        for layer in self.vit.encoder.layer:
            z = layer(z)
        return self.classifier(self.vit.layernorm(z[:, 0]))


class BeitBlock(nn.Module):
    """timm's Beit Block: fused qkv with q_bias and v_bias, a relative position bias table, layer scales."""

    def __init__(self, dim, heads, mlp, grid):
        super().__init__()
        self.heads, self.grid = heads, grid
        rows = (2 * grid[0] - 1) * (2 * grid[1] - 1) + 3
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = _module(qkv=nn.Linear(dim, 3 * dim, bias=False), proj=nn.Linear(dim, dim))
        self.attn.q_bias = nn.Parameter(torch.zeros(dim))
        self.attn.v_bias = nn.Parameter(torch.zeros(dim))
        self.attn.relative_position_bias_table = nn.Parameter(torch.zeros(rows, heads))
        self.mlp = _module(fc1=nn.Linear(dim, mlp), fc2=nn.Linear(mlp, dim))
        self.gamma_1, self.gamma_2 = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.ones(dim))
        self.register_buffer("index", relative_position_index(*grid), persistent=False)

    def forward(self, z):
        B, T, C = z.shape
        a = self.attn
        bias = torch.cat([a.q_bias, torch.zeros_like(a.q_bias), a.v_bias])
        q, k, v = F.linear(self.norm1(z), a.qkv.weight, bias).view(B, T, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        rel = a.relative_position_bias_table[self.index.view(-1)].view(T, T, -1).permute(2, 0, 1).unsqueeze(0)
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=rel.to(q.dtype))
        else:  # PyTorch before 2.0
            o = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(C // self.heads) + rel, -1) @ v
        z = z + self.gamma_1 * a.proj(o.transpose(1, 2).reshape(B, T, C))
        return z + self.gamma_2 * self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(z))))


class Beit(nn.Module):
    """timm's Beit as beit_*_patch16_* configure it (smoothcuda's arch beit; flags as there, abs_pos 0)."""

    def __init__(self, flags, shape, classes):
        super().__init__()
        patch, dim = int(flags.get("patch", 16)), int(flags.get("dim", 768))
        depth, heads = int(flags.get("depth", 12)), int(flags.get("heads", 12))
        mlp, grid = int(flags.get("mlp", 4 * dim)), (shape[1] // patch, shape[2] // patch)
        if flags.get("abs_pos", "0") != "0" or flags.get("layer_scale", "1") != "1":
            raise SystemExit("pytorch_certify_bench: only BEiT with relative positions and layer scales is written here")
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.patch_embed = _module(proj=nn.Conv2d(shape[0], dim, patch, patch))
        self.blocks = nn.ModuleList([BeitBlock(dim, heads, mlp, grid) for _ in range(depth)])
        self.fc_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        z = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        z = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), z], 1)
        for block in self.blocks:
            z = block(z)
        return self.head(self.fc_norm(z[:, 1:].mean(1)))


class Normalized(nn.Module):
    """(x - mean) / std before the network, like Cohen's NormalizeLayer."""

    def __init__(self, net, mean, std):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


def load_classifier(path):
    tensors, meta = read_safetensors(path)
    arch, classes = meta["arch"], int(meta["num_classes"])
    shape = [int(v) for v in meta["input_shape"].split(",")]
    flags = {k[5:]: v for k, v in meta.items() if k.startswith("flag.")}
    if arch == "vit":
        net = Vit(flags, shape, classes)
    elif arch == "beit":
        net = Beit(flags, shape, classes)
    elif arch == "cifar_resnet110":
        net = CifarResNet(110, classes)
    elif arch == "cifar_resnet20":
        net = CifarResNet(20, classes)
    elif arch == "resnet50":
        net = ResNet50(classes)
    else:
        raise SystemExit(f"pytorch_certify_bench: no PyTorch definition of {arch}")
    state = {k: v for k, v in tensors.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"pytorch_certify_bench: keys do not match: missing {missing[:5]}, unexpected {unexpected[:5]}")
    mean = [float(v) for v in meta["mean"].split(",")]
    std = [float(v) for v in meta["std"].split(",")]
    return Normalized(net, mean, std).eval(), classes, shape


def load_denoiser(path, sigma):
    tensors, meta = read_safetensors(path)
    if meta.get("arch") not in ("iddpm_unet", "adm_unet"):
        raise SystemExit(f"pytorch_certify_bench: {path}: no PyTorch definition of {meta.get('arch')} here")
    flags = {k[5:]: v for k, v in meta.items() if k.startswith("flag.")}
    unet = UNet(flags)
    unet.load_state_dict(dict(tensors), strict=True)
    return OneShotDenoiser(unet, flags, sigma).eval()


class Denoised(nn.Module):
    """classifier(denoise(x)): the DDS base classifier; the denoised images resized (bicubic, antialiased) to
    the classifier's size where it differs, as Carlini et al. feed CIFAR-10's to a ViT at 224x224."""

    def __init__(self, denoiser, classifier, size):
        super().__init__()
        self.denoiser, self.classifier, self.size = denoiser, classifier, tuple(size)

    def forward(self, x):
        y = self.denoiser(x)
        if tuple(y.shape[-2:]) != self.size:
            y = F.interpolate(y, size=self.size, mode="bicubic", antialias=True, align_corners=False)
        return self.classifier(y)


@contextlib.contextmanager
def exact_fp32():
    """The checks compare float32 with float32: PyTorch on CUDA runs cuDNN convolutions in TF32 by default
    (relative error ~3e-4, seen on an H100), so switch that off while checking; the timed runs keep the defaults."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def check_close(what, theirs, ours_path):
    import numpy as np
    ours = torch.from_numpy(np.load(ours_path)).double()
    err = ((theirs.double().cpu() - ours).norm() / ours.norm()).item()
    print(f"{what} check: relative L2 difference {err:.2e} over {ours.shape[0]} images", file=sys.stderr)
    if not err < 1e-4:
        raise SystemExit(f"pytorch_certify_bench: the PyTorch {what} does not compute smoothcuda's")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(sample, samples, warmup, device):
    """Seconds that sample(samples) takes after sample(warmup), the device drained before and after."""
    sample(warmup)
    sync(device)
    t0 = time.perf_counter()
    sample(samples)
    sync(device)
    return time.perf_counter() - t0


def time_cohen(model, x, sigma, classes, batch, samples, warmup, device):
    """Cohen et al.'s sampling loop: counts come back to the host after every batch."""

    def sample(num):
        counts = [0] * classes
        with torch.no_grad():
            for _ in range(math.ceil(num / batch)):
                this = min(batch, num)
                num -= this
                noisy = x.repeat((this, 1, 1, 1))
                noise = torch.randn_like(noisy, device=device) * sigma
                for label in model(noisy + noise).argmax(1).cpu().numpy():
                    counts[label] += 1
        return counts

    return timed(sample, samples, warmup, device)


def time_best(model, x, sigma, classes, batch, samples, warmup, device, compile_mode):
    """channels_last + bf16 autocast + device-side noise and counts + torch.compile when available."""
    model = model.to(memory_format=torch.channels_last)
    step_model = model
    compiled = "no"
    if compile_mode != "none" and hasattr(torch, "compile"):
        step_model = torch.compile(model, mode=compile_mode)
        compiled = compile_mode
    base = x.unsqueeze(0).expand(batch, -1, -1, -1).contiguous(memory_format=torch.channels_last)

    def step():
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            noisy = base + torch.randn_like(base) * sigma
            return torch.bincount(step_model(noisy).argmax(1), minlength=classes)

    def sample(num):
        counts = torch.zeros(classes, dtype=torch.int64, device=device)
        for _ in range(math.ceil(num / batch)):  # whole batches: a compiled graph keeps one shape
            counts += step()
        return counts

    return timed(sample, samples, warmup, device), compiled


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="smoothcuda model file written by bench-certify --save-model")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--cohen-batch", type=int, default=1000)
    ap.add_argument("--best-batches", default="1000,4000,16000", help="batch sizes tried for the best-effort run")
    ap.add_argument("--compile", default="max-autotune", help="torch.compile mode, or none")
    ap.add_argument("--N0", type=int, default=100)
    ap.add_argument("--N", type=int, default=100000)
    ap.add_argument("--variants", default="cohen,best")
    ap.add_argument("--json", default="", help="append the JSON lines to this file")
    ap.add_argument("--denoiser", default="", help="diffusion model file: time DDS, classifier(denoise(x))")
    ap.add_argument("--sample-shape", default="", help="C,H,W of the noisy samples where they differ from the "
                    "classifier's input (with --denoiser: its output is resized)")
    ap.add_argument("--check-denoiser", default="", help="NOISY.npy:DENOISED.npy: first check the denoiser against "
                    "smoothcuda's (smoothcuda denoise UNET SIGMA NOISY.npy DENOISED.npy)")
    ap.add_argument("--check", default="", help="IMAGES.npy:LOGITS.npy: first check that PyTorch's float32 logits "
                    "match smoothcuda's (smoothcuda eval npy:IMAGES.npy MODEL --out LOGITS.npy)")
    args = ap.parse_args()

    device = torch.device(args.device)
    torch.manual_seed(0)
    model, classes, shape = load_classifier(args.model)
    model = model.to(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.check:
        import numpy as np
        images, logits = args.check.split(":")
        with torch.no_grad(), exact_fp32():
            check_close("logits", model(torch.from_numpy(np.load(images)).to(device)), logits)
    if args.denoiser:
        denoiser = load_denoiser(args.denoiser, args.sigma).to(device)
        if args.check_denoiser:
            import numpy as np
            images, denoised = args.check_denoiser.split(":")
            with torch.no_grad(), exact_fp32():
                check_close("denoiser", denoiser(torch.from_numpy(np.load(images)).to(device)), denoised)
        model = Denoised(denoiser, model, shape[1:]).eval()
    if args.sample_shape:
        shape = [int(v) for v in args.sample_shape.split(",")]
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(shape, generator=gen).to(device)
    name = os.path.basename(args.model)
    if args.denoiser:
        name = os.path.basename(args.denoiser).replace(".safetensors", "") + "+" + name
    lines = []

    def report(variant, batch, seconds, extra=None):
        rate = args.samples / seconds
        rec = {"tool": "pytorch " + torch.__version__, "variant": variant, "model": name, "device": str(device),
               "batch": batch, "samples": args.samples, "seconds": round(seconds, 4),
               "samples_per_s": round(rate, 1), "s_per_image": round((args.N0 + args.N) / rate, 4)}
        rec.update(extra or {})
        line = json.dumps(rec)
        print(line, flush=True)
        lines.append(line)

    variants = args.variants.split(",")
    if "cohen" in variants:
        secs = time_cohen(model, x, args.sigma, classes, args.cohen_batch, args.samples, 2 * args.cohen_batch, device)
        report("cohen (eager fp32, NCHW, host counts)", args.cohen_batch, secs)
    if "best" in variants:
        best = None
        for batch in [int(b) for b in args.best_batches.split(",")]:
            try:
                secs, compiled = time_best(model, x, args.sigma, classes, batch, args.samples, 2 * batch, device,
                                           args.compile)
            except RuntimeError as e:  # out of memory at this batch: keep the best so far
                print(f"best effort at batch {batch}: {str(e).splitlines()[0]}", file=sys.stderr)
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            if best is None or secs < best[1]:
                best = (batch, secs, compiled)
        if best:
            report("best (channels_last, bf16 autocast, compile, device counts)", best[0], best[1],
                   {"compile": best[2]})
    if args.json:
        with open(args.json, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
