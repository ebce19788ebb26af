#!/usr/bin/env bash
# Everything the lent GPU machine should check, in one call: build with CUDA for the device's architecture,
# run the CPU and GPU tests (tests/gpu/: every op, the fast engine's kernels and plans, smoothing), the kernel
# microbenchmarks (hand-written vs cuDNN/cuBLAS, fused_conv in f32/bf16/f16, the device's peaks) and eval on CUDA
# against the CPU. Then, in a second call: bench/certify_throughput.sh build-gpu "$OUT/throughput". Logs go to $OUT
# (the device tool brings that folder back); a short summary is printed last.
#
#   scripts/gpu-check.sh [extra cmake flags]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OUT=${OUT:-/tmp/smoothcuda-gpu-check}
mkdir -p "$OUT"
{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (+uncommitted changes)')"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
  nvcc --version | tail -1
} | tee "$OUT/device.txt"

status=0
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSMOOTHCUDA_CUDA=ON "$@" >"$OUT/configure.log" 2>&1 &&
  cmake --build build-gpu -j"$JOBS" >"$OUT/build.log" 2>&1 || { echo "BUILD FAILED"; tail -40 "$OUT/build.log"; exit 1; }

ctest --test-dir build-gpu -L gpu --output-on-failure -j1 >"$OUT/gpu-tests.log" 2>&1 || status=1
ctest --test-dir build-gpu -L cpu -j"$JOBS" >"$OUT/cpu-tests.log" 2>&1 || status=1
SMOOTHCUDA_SYNC_LAUNCHES=0 build-gpu/bench/smoothcuda_bench_kernels --benchmark_min_time=0.2 \
  --benchmark_out="$OUT/bench-kernels.json" --benchmark_out_format=json >"$OUT/bench-kernels.txt" 2>&1 || status=1
for dev in cpu cuda; do
  build-gpu/smoothcuda eval fashion-mnist models/lenet_fmnist_sigma0.25.safetensors --device $dev --batch 1000 \
    --out "$OUT/logits-$dev.npy" >"$OUT/eval-$dev.txt" 2>&1 || status=1
done

echo "== gpu tests";  grep -E "tests passed|tests failed|Failed|\*\*\*" "$OUT/gpu-tests.log" | tail -15
echo "== cpu tests";  grep -E "tests passed|tests failed" "$OUT/cpu-tests.log"
echo "== eval";       cat "$OUT/eval-cpu.txt" "$OUT/eval-cuda.txt"
echo "== kernels";    grep -E "^BM_" "$OUT/bench-kernels.txt" | grep -v "/cpu/"
# The certification table (bench/certify_throughput.sh) is the next call: it reuses build-gpu/.
exit $status
