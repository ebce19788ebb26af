#!/usr/bin/env bash
# Training side by side with PyTorch, on this machine's CPU: the demo model's recipe (LeNet on Fashion-MNIST with
# Gaussian noise σ = 0.25; SGD lr 0.05, momentum 0.9, weight decay 1e-4, batch 128, StepLR every epochs/3 epochs
# × 0.3) trained by `smoothcuda train` and by weights_tools/train_lenet_fmnist.py (Debian's PyTorch), one after
# the other, then both models certified by smoothcuda on every 20th test image (σ = 0.25, N = 10,000) and put in
# one table. Each side prints its seconds per epoch.
#
#   bench/train_vs_pytorch.sh BUILD OUT [EPOCHS]     (EPOCHS: 15, the demo model's)
set -euo pipefail
build=${1:?usage: bench/train_vs_pytorch.sh BUILD OUT [EPOCHS]}
out=${2:?usage: bench/train_vs_pytorch.sh BUILD OUT [EPOCHS]}
epochs=${3:-15}
step=$((epochs / 3 > 0 ? epochs / 3 : 1))
cd "$(dirname "$0")/.."
mkdir -p "$out"
norm="--dataset fashion-mnist --mean 0.2860 --std 0.3530"

echo "== smoothcuda train ($epochs epochs)"
"$build/smoothcuda" train fashion-mnist "$out/smoothcuda" --arch lenet $norm --epochs "$epochs" --batch 128 \
  --lr 0.05 --momentum 0.9 --weight-decay 1e-4 --lr-step-size "$step" --gamma 0.3 --noise-sd 0.25 --overwrite \
  | tee "$out/smoothcuda_train.txt"

echo "== PyTorch (weights_tools/train_lenet_fmnist.py, $epochs epochs)"
/usr/bin/python3 weights_tools/train_lenet_fmnist.py --sigma 0.25 --epochs "$epochs" --out "$out/pytorch" \
  | tee "$out/pytorch_train.txt"
"$build/smoothcuda" convert "$out/pytorch.pt" "$out/pytorch.safetensors" $norm

for side in smoothcuda pytorch; do
  model="$out/$side.safetensors"
  [ "$side" = smoothcuda ] && model="$out/smoothcuda/model.safetensors"
  "$build/smoothcuda" eval fashion-mnist "$model" | tee "$out/${side}_eval.txt"
  "$build/smoothcuda" certify fashion-mnist "$model" 0.25 "$out/certify_${side}.tsv" --skip 20 --N0 100 \
    --N 10000 --alpha 0.001 --batch 1000 --overwrite
done
"$build/smoothcuda" analyze "$out/certify_smoothcuda.tsv" "$out/certify_pytorch.tsv" --radii 0:1:0.125 --out "$out"
cat "$out/table.md"
