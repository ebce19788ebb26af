#!/usr/bin/env bash
# Empirical robustness of denoised smoothing beside its certificates: the models of
# scripts/denoised_smoothing_table.sh (run it first, same SIGMA) attacked with SmoothAdv (Salman et al. 2019:
# l2 PGD on the smoothed soft classifier, M noise draws, STEPS steps, radius EPS), then judged by the smoothed
# classifier itself (`predict`, N samples, alpha 0.001). With a DnCNN in front the attack follows the gradient
# through the denoiser (white-box, `attack --denoiser`); the "transfer" row instead feeds the DnCNN the LeNet's
# own adversarial images, which an attack that ignores the denoiser would find. The last column is the certified
# accuracy at radius EPS on the same images (from the table script's certify TSVs): up to the certificates' alpha
# and sampling, no attack gets below it.
#   scripts/denoised_smoothing_attack.sh SIGMA EPS SKIP M STEPS N DEVICE [LOSS]
#   e.g. scripts/denoised_smoothing_attack.sh 0.25 0.5 50 16 20 1000 cpu
# LOSS: soft (SmoothAdv's, the default) or eot (the noisy copies' mean cross-entropy, `--smoothadv-loss eot`).
# Writes results/denoised_smoothing/sigma_SIGMA/attack_EPS[_eot]/table.md; what exists already is not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
sigma=${1:-0.25} eps=${2:-0.5} skip=${3:-50} m=${4:-16} steps=${5:-20} n=${6:-1000} device=${7:-cpu} loss=${8:-soft}
d=results/denoised_smoothing
o=$d/sigma_$sigma
a=$o/attack_$eps
[ "$loss" = soft ] || a=${a}_$loss
sc=./build/smoothcuda
test_set="npy:$d/fmnist32_test.npy:$d/fmnist32_test_labels.npy"
for f in $d/lenet_clean.safetensors $d/lenet_sigma0.25.safetensors $o/mse/model.safetensors $o/stab/model.safetensors; do
  [ -f "$f" ] || { echo "missing $f: run scripts/denoised_smoothing_table.sh $sigma first" >&2; exit 1; }
done
mkdir -p $a
mse="--denoiser $o/mse/model.safetensors" stab="--denoiser $o/stab/model.safetensors"
judge="--N $n --alpha 0.001 --batch 500 --device $device"
clean=$o/attack_clean_skip${skip}_N$n  # the clean images' predictions do not depend on EPS
mkdir -p $clean

# name, classifier, denoiser options (none: the classifier alone)
configs=("smoothed_directly $d/lenet_clean.safetensors" "dncnn_mse $d/lenet_clean.safetensors $mse"
  "dncnn_stab $d/lenet_clean.safetensors $stab" "noise_trained $d/lenet_sigma0.25.safetensors")
for config in "${configs[@]}"; do
  read -r name model denoiser <<<"$config"
  [ -f $a/$name/adversarial.npy ] ||
    $sc attack "$test_set" $model $denoiser --attack smoothadv --smoothadv-loss $loss --eps $eps --sigma $sigma \
      --m $m --steps $steps \
      --skip $skip --batch 20 --device $device --out $a/$name
  [ -f $clean/$name.tsv ] || $sc predict "$test_set" $model $sigma $clean/$name.tsv --skip $skip $judge $denoiser
  [ -f $a/${name}_attacked.tsv ] ||
    $sc predict "npy:$a/$name/adversarial.npy:$a/$name/labels.npy" $model $sigma $a/${name}_attacked.tsv $judge \
      $denoiser
done
[ -f $a/dncnn_mse_transfer_attacked.tsv ] ||
  $sc predict "npy:$a/smoothed_directly/adversarial.npy:$a/smoothed_directly/labels.npy" \
    $d/lenet_clean.safetensors $sigma $a/dncnn_mse_transfer_attacked.tsv $judge $mse

# accuracy and abstentions of a predict TSV (idx label predict correct time)
stats() { awk -F'\t' 'NR > 1 { n++; c += $4; a += ($3 == -1) } END { printf "%.3f | %.3f", c / n, a / n }' "$1"; }
# certified accuracy at radius EPS on the same images, from denoised_smoothing_table.sh's certify TSV (idx label
# predict radius correct time), when it covers them
certified() {
  awk -F'\t' -v skip=$skip -v r=$eps 'NR > 1 && $1 % skip == 0 { n++; c += ($5 == 1 && $4 >= r) }
    END { if (n) printf "%.3f", c / n; else printf "-" }' "$1" 2>/dev/null || printf -- "-"
}
{
  echo "SmoothAdv ($loss loss), l2 eps = $eps, m = $m, $steps steps; the smoothed classifier's prediction (N = $n, alpha = 0.001)"
  echo "on every ${skip}th Fashion-MNIST test image (32x32), sigma = $sigma."
  echo
  echo "| configuration | attack sees | clean accuracy | clean abstain | accuracy under attack | abstain under attack | certified at r = eps |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  echo "| smoothed directly | the LeNet | $(stats $clean/smoothed_directly.tsv) | $(stats $a/smoothed_directly_attacked.tsv) | $(certified $o/a_clean_smoothed.tsv) |"
  echo "| + DnCNN (MSE) | DnCNN and LeNet | $(stats $clean/dncnn_mse.tsv) | $(stats $a/dncnn_mse_attacked.tsv) | $(certified $o/e_clean_dncnn_mse.tsv) |"
  echo "| + DnCNN (MSE) | the LeNet only (transfer) | $(stats $clean/dncnn_mse.tsv) | $(stats $a/dncnn_mse_transfer_attacked.tsv) | $(certified $o/e_clean_dncnn_mse.tsv) |"
  echo "| + stability fine-tune | DnCNN and LeNet | $(stats $clean/dncnn_stab.tsv) | $(stats $a/dncnn_stab_attacked.tsv) | $(certified $o/f_clean_dncnn_stab.tsv) |"
  echo "| the LeNet trained on the noise | the LeNet | $(stats $clean/noise_trained.tsv) | $(stats $a/noise_trained_attacked.tsv) | $(certified $o/d_noise_trained.tsv) |"
} >$a/table.md
cat $a/table.md
