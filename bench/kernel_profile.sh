#!/usr/bin/env bash
# Where a certification's GPU time goes, kernel by kernel, and what the engine's switches change; one device
# call after scripts/gpu-check.sh has built (or a build dir was carried):
#   1. Nsight Compute's kernel durations (no other counters, clocks as found) over two batches of 1000 noisy
#      samples of cifar_resnet110 (32²) and resnet50 (224²) in bf16, launch by launch (no CUDA graphs, no cache
#      blocking: one launch per step), summed per kernel by bench/ncu_summary.py;
#      ResNet-110 also with its residual runs step by step (SMOOTHCUDA_FUSED_STAGES=0); DDS (the 52 M UNet +
#      ResNet-110, batch 500) on request;
#   2. bench-certify in bf16 with the 3×3 halo kernel off (SMOOTHCUDA_HALO_CONV=0) for both classifiers, ResNet-110
#      with its residual runs step by step (SMOOTHCUDA_FUSED_STAGES=0, with and without the halo kernel), and with
#      128×64 tiles (SMOOTHCUDA_WIDE_TILES=0) for the 52 M DDS UNet, beside the defaults, in one JSON-lines file.
#
#   [PROFILES="resnet110 resnet110-steps resnet50 dds"] [SWITCHES=0] bench/kernel_profile.sh BUILD_DIR OUT_DIR
# PROFILES picks the profiles of step 1 (the default: the first three); SWITCHES=0 leaves out step 2. The switches
# exported by the caller (SMOOTHCUDA_WGMMA=1, SMOOTHCUDA_STEM_16BIT=1, ...) apply to every run.
set -uo pipefail
cd "$(dirname "$0")/.."
sc=${1:?build dir}/smoothcuda
out=${2:?output dir}
mkdir -p "$out"
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
status=0
profile() {  # name env-assignment arch shape classes launches-per-batch [denoiser flags]
  local name=$1 envs=$2 arch=$3 shape=$4 classes=$5 per=$6 sizes=(--batch 1000 --samples 4000 --warmup 2000)
  shift 6
  # Two batches after three, where the launches per batch are known; else (DDS: a UNet's launches, then the
  # classifier's) 1,500 launches after 2,400, in whole batches between launches of the classifier's head.
  local window=(--launch-skip $((3 * per)) --launch-count $((2 * per))) batches=(--batches 2)
  if [ "$per" = 0 ]; then  # ~300 launches per batch: 15 batches
    sizes=(--batch 500 --samples 5000 --warmup 2500) window=(--launch-skip 2400 --launch-count 1500)
    batches=(--batch-marker pooled_linear_kernel)
  fi
  [ -n "$ncu" ] || { echo "kernel_profile: no ncu on this machine"; return 1; }
  env $envs SMOOTHCUDA_CUDA_GRAPHS=0 SMOOTHCUDA_CACHE_BYTES=0 "$ncu" --clock-control none --metrics gpu__time_duration.sum \
    --csv "${window[@]}" --log-file "$out/ncu-$name.csv" \
    "$sc" bench-certify --arch "$arch" --input-shape "$shape" --num-classes "$classes" --device cuda \
    --engine fast --precision bf16 "${sizes[@]}" "$@" \
    >"$out/ncu-$name.log" 2>&1 || status=1
  echo "== $name, bf16, batch ${sizes[1]} (ncu kernel durations)"
  python3 bench/ncu_summary.py "$out/ncu-$name.csv" "${batches[@]}" --top 14 || status=1
}
# Launches per batch: one per plan step (a fused residual run is one), the head, the staged noise table.
# ResNet-110: 112 steps, of which 104 are in three fused runs (12 launches), or step by step (113).
source bench/denoiser_flags.sh
for name in ${PROFILES:-resnet110 resnet110-steps resnet50}; do
  case $name in
    resnet110) profile resnet110 "" cifar_resnet110 3,32,32 10 12 ;;
    resnet110-steps) profile resnet110-steps SMOOTHCUDA_FUSED_STAGES=0 cifar_resnet110 3,32,32 10 113 ;;
    resnet50) profile resnet50 "" resnet50 3,224,224 1000 57 ;;
    dds) profile dds "" cifar_resnet110 3,32,32 10 0 --denoiser-arch iddpm_unet --denoiser-flags "$cifar_unet" ;;
    *) echo "kernel_profile: unknown profile $name"; status=1 ;;
  esac
done
[ "${SWITCHES:-1}" = 0 ] && exit $status

json="$out/switches.jsonl"
: >"$json"
certify() {  # env-assignment arch shape classes samples batch [extra flags]
  local envs=$1 arch=$2 shape=$3 classes=$4 samples=$5 batch=$6
  shift 6
  env $envs "$sc" bench-certify --arch "$arch" --input-shape "$shape" --num-classes "$classes" --device cuda \
    --engine fast --precision bf16 --batch "$batch" --samples "$samples" --json "$json" "$@" >/dev/null 2>&1 || status=1
  echo "$envs $arch: $(tail -1 "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_s"])') samples/s"
}
echo "== engine switches, bf16 (batch 1000; DDS 500)"
for envs in SMOOTHCUDA_HALO_CONV=1 SMOOTHCUDA_HALO_CONV=0; do
  certify $envs cifar_resnet110 3,32,32 10 100000 1000
  certify $envs resnet50 3,224,224 1000 20000 1000
done
for envs in SMOOTHCUDA_FUSED_STAGES=0 SMOOTHCUDA_FUSED_STAGES=0,SMOOTHCUDA_HALO_CONV=0; do
  certify "${envs//,/ }" cifar_resnet110 3,32,32 10 100000 1000
done
for envs in SMOOTHCUDA_WIDE_TILES=1 SMOOTHCUDA_WIDE_TILES=0; do
  certify $envs cifar_resnet110 3,32,32 10 5000 500 --denoiser-arch iddpm_unet --denoiser-flags "$cifar_unet"
done
exit $status
