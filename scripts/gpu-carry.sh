#!/usr/bin/env bash
# Run HERE, before the device calls: builds the CUDA binaries that the lent GPU machine runs (sm_90a, no SIMT
# emulator; build-gpu/) and copies them, stripped, into build-carry/ (~18 MB, git-ignored as build*/): the CLI,
# the GPU tests and the kernel benchmarks. Name build-carry (and .deps, from scripts/gpu-deps.sh: the shared
# libraries they load) in the device call's carry; `BUILD=build-carry scripts/gpu-check.sh` then runs them
# without building there, which saves minutes of device time on every fresh machine (nvcc here is the same
# 13.0 as the device's; the H100 machine of 2026-11-23 ran binaries built this way).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSMOOTHCUDA_CUDA=ON -DSMOOTHCUDA_EMULATOR=OFF >/dev/null
cmake --build build-gpu -j"$JOBS" --target smoothcuda smoothcuda_gpu_tests smoothcuda_bench_kernels
rm -rf build-carry
mkdir -p build-carry/tests build-carry/bench
install -s build-gpu/smoothcuda build-carry/
install -s build-gpu/tests/smoothcuda_gpu_tests build-carry/tests/
install -s build-gpu/bench/smoothcuda_bench_kernels build-carry/bench/
du -sh build-carry | sed 's/^/gpu-carry: /'
