#!/usr/bin/env bash
# The OOD lab (REFERENCE.md, "OOD lab exercises") on the CIFAR-10 JPEGs of ../shared: a LeNet trained plainly
# and one trained on FGSM examples (ε = 2/255), 10 epochs on every 2nd training image; a conv_autoencoder
# trained to reconstruct (4 epochs); the OOD tables of both classifiers against uniform and Gaussian noise
# and iSUN with the autoencoder's score beside theirs; each classifier's smallest FGSM budget per image
# (1/255 at a time). Models and logs in results/ood_lab/ (kept between runs: a step whose output exists is
# skipped); the tables are copied to docs/ood/lab/. About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
S=$shared/data/cifar10-jpeg
out=results/ood_lab
docs=docs/ood/lab
mkdir -p "$out" "$docs"
common="folder:$S/train --arch lenet --dataset cifar10 --test folder:$S/test --test-skip 10 --epochs 10 --batch 128
  --lr 0.02 --lr-step-size 5 --skip 2"
[ -s $out/plain/model.safetensors ] || build/smoothcuda train $common $out/plain --overwrite > $out/plain.log 2>&1
[ -s $out/fgsm/model.safetensors ] ||
  build/smoothcuda train $common --adversarial fgsm --attack-eps 2/255 $out/fgsm --overwrite > $out/fgsm.log 2>&1
[ -s $out/autoencoder/model.safetensors ] ||
  build/smoothcuda train-denoiser folder:$S/train $out/autoencoder --arch conv_autoencoder --noise-sd 0 \
    --dataset cifar10 --augment none --epochs 4 --batch 128 --skip 2 --test folder:$S/test --test-skip 20 \
    --overwrite > $out/autoencoder.log 2>&1
for m in plain fgsm; do
  [ -s $out/ood_$m/table.md ] ||
    build/smoothcuda ood cifar10=folder:$S/test $out/$m/model.safetensors \
      --ood uniform=fake:10000:3:32:32:uniform,gaussian=fake:10000:3:32:32:gaussian,isun=folder:$shared/data/isun \
      --skip 10 --score all --autoencoder $out/autoencoder/model.safetensors --out $out/ood_$m > $out/ood_$m.log 2>&1
  [ -s $out/budget_$m/summary.md ] ||
    build/smoothcuda attack folder:$S/test $out/$m/model.safetensors --attack fgsm --eps 16/255 --eps-step 1/255 \
      --skip 20 --out $out/budget_$m > /dev/null
  cp $out/ood_$m/table.md $docs/ood_$m.md
  cp $out/budget_$m/summary.md $docs/fgsm_budget_$m.md
  cp $out/$m/log.tsv $docs/train_$m.tsv
done
cp $out/autoencoder/log.tsv $docs/train_autoencoder.tsv
