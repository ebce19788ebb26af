#!/usr/bin/env bash
# Denoised smoothing (Salman et al. 2020) on Fashion-MNIST padded to 32x32, beside scripts/dds_table.sh: the LeNet
# trained without noise (models/lenet_fmnist32_clean.pt) certified (a) directly, (e) behind a DnCNN trained with the
# denoising (MSE) objective, (f) behind the same DnCNN fine-tuned with the stability objective through that LeNet
# (Salman et al.'s "Stab+MSE"), and (d) the LeNet trained with the noise (models/lenet_fmnist32_sigma0.25.pt) for
# reference. Trains on the first TRAIN training images, certifies every SKIP-th test image.
#   scripts/denoised_smoothing_table.sh SIGMA SKIP N0 N TRAIN DEVICE    e.g. scripts/denoised_smoothing_table.sh 0.25 50 100 1000 30000 cpu
# Needs Debian's dataset-fashion-mnist and python3-numpy (to pad the images into .npy files).
set -euo pipefail
cd "$(dirname "$0")/.."
sigma=${1:-0.25} skip=${2:-50} n0=${3:-100} n=${4:-1000} train=${5:-30000} device=${6:-cpu}
d=results/denoised_smoothing
sc=./build/smoothcuda
mkdir -p $d
if [ ! -f $d/fmnist32_train.npy ]; then
  /usr/bin/python3 - <<'PY'
import gzip, numpy as np
root = "/usr/share/datasets/fashion-mnist/"
for split, prefix in [("train", "train"), ("test", "t10k")]:
    x = np.frombuffer(gzip.open(root + prefix + "-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    y = np.frombuffer(gzip.open(root + prefix + "-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    np.save(f"results/denoised_smoothing/fmnist32_{split}.npy", np.pad(x.astype(np.float32) / 255, ((0, 0), (0, 0), (2, 2), (2, 2))))
    np.save(f"results/denoised_smoothing/fmnist32_{split}_labels.npy", y.astype(np.int64))
PY
fi
train_set="npy:$d/fmnist32_train.npy:$d/fmnist32_train_labels.npy"
test_set="npy:$d/fmnist32_test.npy:$d/fmnist32_test_labels.npy"
for m in clean sigma0.25; do
  $sc convert models/lenet_fmnist32_$m.pt $d/lenet_$m.safetensors --dataset fashion-mnist --input-shape 1,32,32 \
    --mean 0.2860 --std 0.3530
done
o=$d/sigma_$sigma
mkdir -p $o
common_train="--noise-sd $sigma --max $train --test $test_set --test-skip 20 --augment none --batch 64 --device $device"
[ -f $o/mse/model.safetensors ] ||
  $sc train-denoiser "$train_set" $o/mse --arch dncnn --input-shape 1,32,32 --depth 8 --width 32 --epochs 2 \
    --lr 1e-3 $common_train --overwrite
[ -f $o/stab/model.safetensors ] ||
  $sc train-denoiser "$train_set" $o/stab --init $o/mse/model.safetensors --objective stability \
    --classifier $d/lenet_clean.safetensors --epochs 1 --lr 1e-4 $common_train --overwrite
common="--skip $skip --N0 $n0 --N $n --alpha 0.001 --batch 500 --device $device --overwrite"
$sc certify "$test_set" $d/lenet_clean.safetensors "$sigma" $o/a_clean_smoothed.tsv $common
$sc certify "$test_set" $d/lenet_clean.safetensors "$sigma" $o/e_clean_dncnn_mse.tsv $common \
  --denoiser $o/mse/model.safetensors
$sc certify "$test_set" $d/lenet_clean.safetensors "$sigma" $o/f_clean_dncnn_stab.tsv $common \
  --denoiser $o/stab/model.safetensors
$sc certify "$test_set" $d/lenet_sigma0.25.safetensors "$sigma" $o/d_noise_trained.tsv $common
$sc analyze $o/a_clean_smoothed.tsv $o/e_clean_dncnn_mse.tsv $o/f_clean_dncnn_stab.tsv $o/d_noise_trained.tsv \
  --radii 0:0.75:0.125 --out $o
