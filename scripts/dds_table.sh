#!/usr/bin/env bash
# The DDS comparison on Fashion-MNIST (32x32, padded): certified accuracy of (a) a classifier trained without noise,
# smoothed directly; (b) the same with the diffusion denoiser in front (DDS); (c) with DiffSmooth's local smoothing;
# (d) the classifier trained with Gaussian noise. The classifiers are committed (models/lenet_fmnist32_*.pt, made by
#   /usr/bin/python3 weights_tools/train_lenet_fmnist.py --pad 2 --sigma 0    --epochs 5 --out models/lenet_fmnist32_clean
#   /usr/bin/python3 weights_tools/train_lenet_fmnist.py --pad 2 --sigma 0.25 --epochs 5 --out models/lenet_fmnist32_sigma0.25);
# the Fashion-MNIST test set padded to 32x32 is written to results/ddstable/ by this script (Debian's python3-numpy).
#   scripts/dds_table.sh SIGMA SKIP N0 N DEVICE     e.g. scripts/dds_table.sh 0.25 25 20 200 cpu
set -euo pipefail
cd "$(dirname "$0")/.."
sigma=${1:-0.25} skip=${2:-25} n0=${3:-20} n=${4:-200} device=${5:-cpu}
d=results/ddstable
sc=./build/smoothcuda
[ -x "$sc" ] || sc=./build-cpu/smoothcuda
mkdir -p $d
if [ ! -f $d/fmnist32_test.npy ]; then
  /usr/bin/python3 - <<'PY'
import gzip, numpy as np
root = "/usr/share/datasets/fashion-mnist/"
x = np.frombuffer(gzip.open(root + "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
y = np.frombuffer(gzip.open(root + "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
np.save("results/ddstable/fmnist32_test.npy", np.pad(x.astype(np.float32) / 255, ((0, 0), (0, 0), (2, 2), (2, 2))))
np.save("results/ddstable/fmnist_test_labels.npy", y.astype(np.int64))
PY
fi
data="npy:$d/fmnist32_test.npy:$d/fmnist_test_labels.npy"
norm="--dataset fashion-mnist --input-shape 1,32,32 --mean 0.2860 --std 0.3530"
$sc convert models/fmnist_iddpm_small.pt $d/unet.safetensors --arch iddpm_unet --image_size 32 --in_channels 1 \
  --num_channels 32 --num_res_blocks 1 --num_heads 4 --attention_resolutions 8 --learn_sigma False \
  --use_scale_shift_norm True --diffusion_steps 1000 --noise_schedule cosine --rescale_timesteps True
common="--skip $skip --N0 $n0 --N $n --alpha 0.001 --batch 200 --device $device --overwrite"
o=$d/sigma_$sigma
mkdir -p $o
$sc certify "$data" models/lenet_fmnist32_clean.pt "$sigma" $o/a_clean_smoothed.tsv $common $norm
$sc certify "$data" models/lenet_fmnist32_clean.pt "$sigma" $o/b_clean_dds.tsv $common $norm --denoiser $d/unet.safetensors
$sc certify "$data" models/lenet_fmnist32_clean.pt "$sigma" $o/c_clean_diffsmooth.tsv $common $norm \
  --denoiser $d/unet.safetensors --m 5 --local-noise-sd 0.1
$sc certify "$data" models/lenet_fmnist32_sigma0.25.pt "$sigma" $o/d_noise_trained.tsv $common $norm
$sc analyze $o/a_clean_smoothed.tsv $o/b_clean_dds.tsv $o/c_clean_diffsmooth.tsv $o/d_noise_trained.tsv \
  --radii 0:0.75:0.125 --out $o
