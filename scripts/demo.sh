#!/usr/bin/env bash
# The main job, the path a user takes: a classifier trained in PyTorch with Gaussian noise (σ = 0.25, LeNet on
# Fashion-MNIST: models/lenet_fmnist_sigma0.25.pt), converted without PyTorch, then certified with randomized
# smoothing on every 20th Fashion-MNIST test image (500 images; N = 100,000 on a GPU, 10,000 on the CPU) and
# analyzed. Outputs: results/demo/ (certify TSV, table.md, table.tex, certified_accuracy.svg).
# An interrupted run continues where it stopped when started again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
out=results/demo
mkdir -p "$out"
device=cpu N=10000
if ./build/smoothcuda info | grep -q "^CUDA devices: [1-9]"; then device=cuda N=100000; fi
./build/smoothcuda convert models/lenet_fmnist_sigma0.25.pt "$out/lenet_fmnist_sigma0.25.safetensors" \
  --dataset fashion-mnist --mean 0.2860 --std 0.3530
tsv="$out/certify_fmnist_lenet_sigma0.25_N${N}.tsv"
resume=""
[ -s "$tsv" ] && resume="--resume"
./build/smoothcuda certify fashion-mnist "$out/lenet_fmnist_sigma0.25.safetensors" 0.25 "$tsv" \
  --skip 20 --N0 100 --N "$N" --alpha 0.001 --batch 1000 --device "$device" $resume
./build/smoothcuda analyze "$tsv" --radii 0:1:0.125 --out "$out"
