#!/usr/bin/env python3
"""Lower bounds on certification time from the device's measured peaks, layer by layer (a roofline): what no
kernel can beat, to set the issue-6 targets against.

    bench/roofline.py [--peak-tflops P] [--gbps B] [--samples N]

Each layer takes at least max(its FLOPs / P, its bytes / B): P the dense bf16 matrix peak (bench_kernels'
BM_PeakBf16Gemm), B the device copy rate (BM_PeakCopy). Bytes are the least any engine that runs the layer on
its own must move through device memory, in 16-bit activations: its input read once, its output written once,
a residual read once; everything the fast engine already fuses (BatchNorm, ReLU, the residual add, the noise
and normalization inside the first convolution, whose clean image every sample of an image shares) and what it
could fuse (GroupNorm and SiLU into the next convolution's input, the concatenations into the convolution that
reads them, the upsampling into the convolution after it) costs no bytes. The weights (read once per batch of
hundreds of samples) are left out. Two floors for the CIFAR ResNets: layer by layer, and with each residual
stage kept on chip (ops::residual_stage: a stage's input and output cross device memory once).

The architectures are written out here as their reference code builds them (cifar_resnet110 of Cohen et al.,
torchvision's resnet50 v1.5, improved-diffusion's 52 M CIFAR-10 UNet with bench/denoiser_flags.sh's flags); the
FLOP totals are checked against smoothcuda's own counts (Plan::flops_per_sample, denoiser_flops_per_sample).
"""
import argparse
import sys

BYTES = 2  # bf16/fp16 activations
SMOOTHCUDA_GFLOP = {"cifar_resnet110": 0.506, "resnet50": 8.18, "iddpm_unet": 16.75}  # bench-certify's counts


class Net:
    def __init__(self):
        self.layers = []  # (name, flops, bytes)
        self.by_size = {}  # output map width → FLOPs

    def conv(self, name, h, w, c, o, k, stride=1, residual=False, reads_input=True):
        ho, wo = h // stride, w // stride
        flops = 2 * ho * wo * o * c * k * k
        moved = (h * w * c if reads_input else 0) + ho * wo * o * (2 if residual else 1)
        self.op(name, flops, moved, wo)
        return ho, wo

    def op(self, name, flops, elements, width=0):
        self.layers.append((name, flops, elements * BYTES))
        self.by_size[width] = self.by_size.get(width, 0) + flops

    def gflop(self):
        return sum(f for _, f, _ in self.layers) / 1e9


def cifar_resnet110():
    """3×3 stem, three stages of 18 basic blocks (16, 32, 64 channels), projection shortcuts, pooled linear."""
    net, stages = Net(), []
    net.conv("stem", 32, 32, 3, 16, 3, reads_input=False)  # the noisy input is made inside the convolution
    h = w = 32
    c = 16
    for planes, stride in ((16, 1), (32, 2), (64, 2)):
        first, in_elements = len(net.layers), h * w * c
        for block in range(18):
            s = stride if block == 0 else 1
            if s != 1 or c != planes:
                net.conv("shortcut", h, w, c, planes, 1, s)
            ho, wo = net.conv("conv3x3", h, w, c, planes, 3, s)
            net.conv("conv3x3", ho, wo, planes, planes, 3, 1, residual=True)
            h, w, c = ho, wo, planes
        stages.append((first, len(net.layers), in_elements + h * w * c))
    net.op("head", 2 * c * 10, h * w * c)
    return net, stages


def resnet50():
    """torchvision resnet50 (v1.5: the stride on the 3×3) at 224²: 7×7 stem, max pool, [3, 4, 6, 3] bottlenecks."""
    net = Net()
    h, w = net.conv("stem 7x7", 224, 224, 3, 64, 7, 2, reads_input=False)
    net.op("max pool", 0, h * w * 64 + (h // 2) * (w // 2) * 64)
    h, w, c = h // 2, w // 2, 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for block in range(blocks):
            s = stride if block == 0 else 1
            out = 4 * width
            if block == 0:
                net.conv("downsample 1x1", h, w, c, out, 1, s)
            net.conv("1x1 reduce", h, w, c, width, 1)
            ho, wo = net.conv("3x3", h, w, width, width, 3, s)
            net.conv("1x1 expand", ho, wo, width, out, 1, residual=True)
            h, w, c = ho, wo, out
    net.op("head", 2 * c * 1000, h * w * c)
    return net


def iddpm_unet(size=32, mc=128, mult=(1, 2, 2, 2), res_blocks=3, attention_rates=(2, 4)):
    """improved-diffusion's UNet as bench/denoiser_flags.sh configures it (learn_sigma: 6 output channels)."""
    net = Net()

    def res_block(h, c, o):
        net.conv("resblock 3x3", h, h, c, o, 3)
        net.conv("resblock 3x3", h, h, o, o, 3, residual=c == o)
        if c != o:
            net.conv("skip 1x1", h, h, c, o, 1, residual=True)

    def attention(h, c):
        t = h * h
        net.conv("qkv 1x1", h, h, c, 3 * c, 1)
        net.op("attention", 4 * c * t * t, 4 * t * c, h)  # q·k and weights·v; reads q, k, v, writes the output
        net.conv("proj 1x1", h, h, c, c, 1, residual=True)

    h, rate, c = size, 1, mc
    net.conv("input 3x3", h, h, 3, mc, 3)
    skips = [c]
    for level, m in enumerate(mult):
        for _ in range(res_blocks):
            res_block(h, c, m * mc)
            c = m * mc
            if rate in attention_rates:
                attention(h, c)
            skips.append(c)
        if level != len(mult) - 1:
            net.conv("downsample 3x3", h, h, c, c, 3, 2)
            h, rate = h // 2, rate * 2
            skips.append(c)
    res_block(h, c, c)
    attention(h, c)
    res_block(h, c, c)
    for level, m in reversed(list(enumerate(mult))):
        for i in range(res_blocks + 1):
            res_block(h, c + skips.pop(), m * mc)
            c = m * mc
            if rate in attention_rates:
                attention(h, c)
            if level and i == res_blocks:
                net.conv("upsample 3x3", 2 * h, 2 * h, c, c, 3, reads_input=False)
                net.op("upsample input", 0, h * h * c)  # the half-size map, read once
                h, rate = 2 * h, rate // 2
    net.conv("output 3x3", h, h, c, 6, 3)
    return net


def floor_us(layers, peak, gbps):
    """Per sample: the compute floor, the memory floor and the roofline (Σ per-layer max), in µs."""
    times = [(f / (peak * 1e12) * 1e6, b / (gbps * 1e9) * 1e6) for _, f, b in layers]  # (compute, memory) µs
    compute, memory = sum(c for c, _ in times), sum(m for _, m in times)
    roof = sum(max(c, m) for c, m in times)
    return compute, memory, roof, sum(1 for c, m in times if m > c)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peak-tflops", type=float, default=721.0, help="dense bf16 peak (H100, session 16: 721)")
    ap.add_argument("--gbps", type=float, default=2980.0, help="device copy rate (H100, session 16: 2,980)")
    ap.add_argument("--samples", type=int, default=100_100, help="samples per image (N0 + N)")
    args = ap.parse_args()
    p, g, n = args.peak_tflops, args.gbps, args.samples

    r110, stages = cifar_resnet110()
    r50 = resnet50()
    unet = iddpm_unet()
    for name, net in (("cifar_resnet110", r110), ("resnet50", r50), ("iddpm_unet", unet)):
        if abs(net.gflop() - SMOOTHCUDA_GFLOP[name]) > 0.01 * SMOOTHCUDA_GFLOP[name]:
            sys.exit(f"roofline: {name} has {net.gflop():.3f} GFLOP here, smoothcuda counts {SMOOTHCUDA_GFLOP[name]}")
    # ResNet-110 with each stage on chip: the stage's convolutions keep their FLOPs, and its bytes are its input
    # read once and its output written once.
    fused = list(r110.layers)
    for first, end, elements in reversed(stages):
        fused[first:end] = [("stage", sum(f for _, f, _ in fused[first:end]), elements * BYTES)]
    rows = [
        ("cifar_resnet110, layer by layer", r110.layers),
        ("cifar_resnet110, stages on chip", fused),
        ("resnet50 (224²)", r50.layers),
        ("iddpm_unet (52 M)", unet.layers),
        ("DDS: iddpm_unet + cifar_resnet110 (stages on chip)", unet.layers + fused),
    ]
    print(f"Peaks: {p:.0f} TFLOP/s dense bf16, {g:.0f} GB/s; {n:,} samples per image.\n")
    print("| network | GFLOP/sample | MB/sample | compute floor µs | memory floor µs | roofline µs/sample "
          "| memory-bound layers | s/image at the roofline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, layers in rows:
        c, m, roof, bound = floor_us(layers, p, g)
        print(f"| {name} | {sum(f for _, f, _ in layers) / 1e9:.3f} | {sum(b for _, _, b in layers) / 1e6:.2f} "
              f"| {c:.2f} | {m:.2f} | {roof:.2f} | {bound} of {len(layers)} | {roof * n / 1e6:.3f} |")
    # Where the UNet's work lies, to set against measured convolution rates at those map sizes.
    total = unet.gflop() * 1e9
    print("\n| iddpm_unet map | GFLOP/sample | share |\n|---|---:|---:|")
    for width, flops in sorted(unet.by_size.items(), reverse=True):
        if flops:
            print(f"| {width}² | {flops / 1e9:.3f} | {100 * flops / total:.1f}% |")


if __name__ == "__main__":
    main()
