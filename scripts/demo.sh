#!/usr/bin/env bash
# The main job: set up, build, then evaluate the demo classifier (LeNet trained with Gaussian noise σ = 0.25 on
# Fashion-MNIST) on the full Fashion-MNIST test set, on the GPU when one is present, else on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
device=cpu
./build/smoothcuda info | grep -q "^CUDA devices: [1-9]" && device=cuda
./build/smoothcuda eval fashion-mnist models/lenet_fmnist_sigma0.25.safetensors --device "$device"
