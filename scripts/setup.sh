#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test smoothcuda (idempotent: apt runs only when a
# package is missing). The CUDA toolkit itself (nvcc, cuBLAS, cuDNN, cuRAND) is expected under /usr/local/cuda;
# without it the build is CPU-only.
set -euo pipefail
packages=(cmake g++ make libgtest-dev libbenchmark-dev zlib1g-dev libjpeg-dev libpng-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
