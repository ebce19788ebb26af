#!/usr/bin/env bash
# The adversarial OOD tables of docs/ood/README.md ("--attack-method mpgd"): PGD, APGD and monotone PGD, alone
# and together, on every 100th CIFAR-10 test JPEG against every 100th iSUN image (akamaster ResNet-20, max
# logit, linf ε = 0.002, 3 starts each). Writes OUT/METHODS.md (default docs/ood/attack_methods); a table that
# exists is kept. About 8 s per 10-step run and 70 s per 100-step run on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/ood/attack_methods}
shared=${SHARED:-../shared}
mkdir -p "$out"
for m in pgd:10 apgd:10 mpgd:10 pgd:10,apgd:10,mpgd:10 pgd:100 apgd:100 mpgd:100; do
  f=$out/$(echo $m | tr ':,' '_-').md
  [ -s "$f" ] && continue
  build/smoothcuda ood cifar10=folder:$shared/data/cifar10-jpeg/test $shared/models/akamaster/resnet20-12fca82f.th \
    --arch aka_resnet20 --dataset cifar10 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 \
    --ood isun=folder:$shared/data/isun --skip 100 --score maxlogit --attack-eps 0.002 \
    --attack-method $m --attack-restarts 3 > "$f.tmp"
  mv "$f.tmp" "$f"
done
