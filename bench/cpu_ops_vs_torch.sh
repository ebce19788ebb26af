#!/usr/bin/env bash
# The CPU path's microbenchmarks (bench_kernels' /cpu cases) beside PyTorch's CPU ops on the same shapes and
# thread count, in one run, as a Markdown table. For orientation where no GPU exists; GPU claims come from
# scripts/gpu-check.sh and bench/certify_throughput.sh.
#
#   bench/cpu_ops_vs_torch.sh [build dir, default build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${OMP_NUM_THREADS:-$(nproc)}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
OMP_NUM_THREADS=$threads "$build/bench/smoothcuda_bench_kernels" --benchmark_filter='/cpu' --benchmark_min_time=0.3 \
  --benchmark_format=json >"$json" 2>/dev/null
/usr/bin/python3 - "$json" "$threads" <<'PY'
import json, sys, time
import torch
import torch.nn.functional as F

results = {b["name"]: b["real_time"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch.set_num_threads(int(sys.argv[2]))
g = torch.Generator().manual_seed(0)

def best_ms(fn, seconds=0.3):
    fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return 1e3 * times[len(times) // 2]  # median

def conv(n, c, o, h, s, channels_last):
    x, w = torch.randn(n, c, h, h, generator=g), torch.randn(o, c, 3, 3, generator=g)
    if channels_last:  # fused_conv's NHWC with bias, residual and ReLU
        x = x.contiguous(memory_format=torch.channels_last)
        b = torch.randn(o, generator=g)
        ho = (h + 2 - 3) // s + 1
        r = torch.randn(n, o, ho, ho, generator=g).contiguous(memory_format=torch.channels_last)
        return lambda: torch.relu(F.conv2d(x, w, b, s, 1) + r), 2.0 * n * o * ho * ho * c * 9
    ho = (h + 2 - 3) // s + 1
    return lambda: F.conv2d(x, w, None, s, 1), 2.0 * n * o * ho * ho * c * 9

def linear(n, i, o):
    x, w, b = torch.randn(n, i, generator=g), torch.randn(o, i, generator=g), torch.randn(o, generator=g)
    return lambda: F.linear(x, w, b), 2.0 * n * i * o

print(f"| op (CPU, {sys.argv[2]} threads) | smoothcuda ms | PyTorch {torch.__version__} ms | smoothcuda GFLOP/s | PyTorch GFLOP/s |")
print("|---|---|---|---|---|")
with torch.no_grad():
    for name, ms in results.items():
        parts = name.split("/")
        args = [int(a) for a in parts[2:] if a.isdigit()]
        if parts[0] == "BM_Conv2d":
            fn, flops = conv(*args, channels_last=False)
        elif parts[0] == "BM_FusedConv":
            fn, flops = conv(*args, channels_last=True)
        elif parts[0] == "BM_Linear":
            fn, flops = linear(*args)
        else:
            continue
        tms = best_ms(fn)
        print(f"| {'/'.join([parts[0]] + [str(a) for a in args])} | {ms:.3f} | {tms:.3f} | "
              f"{flops / ms / 1e6:.1f} | {flops / tms / 1e6:.1f} |")
PY
