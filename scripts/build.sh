#!/usr/bin/env bash
# Configures and builds smoothcuda in build/ (CUDA when a toolkit is found; extra cmake flags pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$JOBS"
