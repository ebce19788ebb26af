#!/usr/bin/env bash
# Issue 6's benchmark table in one device call: certification throughput of smoothcuda and PyTorch on the same
# random-weight models and inputs, each tool in its own process, results as JSON lines and a Markdown table.
#   cifar_resnet110 at 32x32 and resnet50 at 224x224: smoothcuda (fast engine in fp32, tf32, bf16 and fp16, bf16 and
#   fp16 also without cache blocking and at 4x the batch; the generic engine), PyTorch as Cohen et al. published it (eager fp32, batch 1000) and PyTorch best effort (channels_last,
#   bf16 autocast, torch.compile, largest batch); iddpm_unet (the 52M CIFAR-10 denoiser) + cifar_resnet110 (DDS),
#   with PyTorch as Carlini et al. published it (eager fp32, batch 200) and best effort; on request (SECTIONS
#   with vit) vit alone (ViT-B/16 at 224x224 on the fast transformer), (dds_vit) the same UNet + vit (ViT-B/16 at 224x224, their CIFAR-10 classifier, the denoised 32x32 images
#   resized), (dds_imagenet) adm_unet (guided-diffusion's 552M 256x256 denoiser, run on 224x224 as DDS does)
#   + resnet50 and (dds_beit) the same UNet + beit (BEiT-L/16 at 512x512, their ImageNet classifier).
# Before timing, PyTorch's logits (and denoised images) on a few inputs are checked against smoothcuda's.
#
#   bench/certify_throughput.sh BUILD_DIR OUT_DIR [quick|cpu]
# OUT_DIR gets only certify_throughput.jsonl and certify_throughput.md, rewritten after each section (a run cut
# short keeps what it finished); models and inputs go to $WORK (default /tmp/smoothcuda-throughput).
# Environment: SECTIONS=resnet110,resnet50,dds (the default; a subset runs only those, vit, dds_vit,
# dds_imagenet and dds_beit add their rows; APPEND=1 adds to the JSON lines of an earlier run in the same $WORK, to split the table over device
# calls), VARIANTS="precision:batch:cache bytes:graphs:fused stages:wgmma:stem ..." in place of the classifiers'
# fast-engine rows (BATCH stands for the section's batch; empty fields keep the defaults; wgmma 1 turns on
# Hopper's wgmma convolutions, SMOOTHCUDA_WGMMA; stem 1 the 16-bit first convolution, SMOOTHCUDA_STEM_16BIT),
# DDS_RUNS="engine:precision[:wgmma[:stem]] ..." in place of DDS's
# rows, GENERIC=0 without the generic engine's row, TORCH=0 without the PyTorch rows, TORCH_COMPILE=max-autotune|none
# (default reduce-overhead), PEAK_TFLOPS=the dense bf16 peak that bench_kernels measured, for a % column,
# ROW_TIMEOUT=seconds for each smoothcuda row (a kernel that hangs costs that row, not the device call).
# `quick` shrinks every sample count (a smoke test on the CPU: device cpu, no timing value). `cpu` times the CPU
# path against PyTorch on the CPU with sample counts that take minutes (SECTIONS=resnet110 is the useful one).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir}
out=${2:?output dir}
mode=${3:-full}
sections=",${SECTIONS:-resnet110,resnet50,dds},"
work=${WORK:-/tmp/smoothcuda-throughput}
mkdir -p "$out" "$work"
json="$work/certify_throughput.jsonl"
[ "${APPEND:-0}" = 1 ] || : >"$json"
sc="$build/smoothcuda"
py=${PYTHON:-python3}
device=cuda
big=100000 mid=20000 vit=10000 dds=5000 dds_vit=2000 dds_imagenet=500 batches=2000,8000 cbatch=1000
if [ "$mode" = quick ]; then device=cpu big=200 mid=8 vit=2 dds=4 dds_vit=2 dds_imagenet=2 batches=8 cbatch=8; fi
if [ "$mode" = cpu ]; then device=cpu big=2000 mid=40 vit=4 dds=8 dds_vit=2 dds_imagenet=2 batches=200 cbatch=200; fi
source bench/denoiser_flags.sh  # cifar_unet, imagenet_unet
status=0
limit=()
[ -n "${ROW_TIMEOUT:-}" ] && limit=(timeout -k 5 "$ROW_TIMEOUT")

publish() {  # the table so far, into OUT_DIR
  "$py" bench/throughput_table.py "$json" --peak-tflops "${PEAK_TFLOPS:-0}" >"$out/certify_throughput.md" || status=1
  cp "$json" "$out/certify_throughput.jsonl"
}

bench_model() {  # arch shape classes samples
  local arch=$1 shape=$2 classes=$3 samples=$4 model="$work/$1.safetensors"
  local batch=1000 warmup=0
  [ "$mode" != full ] && batch=$cbatch warmup=$cbatch
  # The fast engine in each precision (precision:batch:cache bytes:graphs:fused stages); bf16 and fp16 also
  # without cache blocking (SMOOTHCUDA_CACHE_BYTES=0: every step over the whole batch) and at 4× the batch,
  # which blocking makes affordable in memory; bf16 also launch by launch (SMOOTHCUDA_CUDA_GRAPHS=0), with the
  # residual runs step by step (SMOOTHCUDA_FUSED_STAGES=0) and at --batch auto.
  local runs="fp32:$batch: tf32:$batch: bf16:$batch: fp16:$batch: bf16:$batch:0 fp16:$batch:0 bf16:$((4 * batch)): fp16:$((4 * batch)):"
  runs+=" bf16:$batch::0 bf16:$batch:::0 bf16:auto::"
  [ "$mode" = quick ] && runs="fp32:$batch: bf16:$batch:0 bf16:$batch::0 bf16:$batch:::0"
  # The fast transformer has no cache blocking, graphs or fused stages to switch: each precision, and 4× the
  # batch in bf16.
  [ "$arch" = vit ] && runs="fp32:$batch: tf32:$batch: bf16:$batch: fp16:$batch: bf16:$((4 * batch)):"
  [ "$arch" = vit ] && [ "$mode" = quick ] && runs="fp32:$batch: bf16:$batch:"
  [ -n "${VARIANTS:-}" ] && runs=${VARIANTS//BATCH/$batch}
  for run in $runs; do
    IFS=: read -r precision b cache graphs fused wgmma stem <<<"$run"
    SMOOTHCUDA_CACHE_BYTES=$cache SMOOTHCUDA_CUDA_GRAPHS=$graphs SMOOTHCUDA_FUSED_STAGES=$fused SMOOTHCUDA_WGMMA=$wgmma \
      SMOOTHCUDA_STEM_16BIT=$stem \
      "${limit[@]}" "$sc" bench-certify --arch "$arch" --input-shape "$shape" --num-classes "$classes" \
      --device "$device" --engine fast --precision "$precision" --batch "$b" --samples "$samples" \
      --warmup "$warmup" --save-model "$model" --json "$json" || status=1
  done
  [ "${GENERIC:-1}" = 1 ] &&
    { "${limit[@]}" "$sc" bench-certify --arch "$arch" --input-shape "$shape" --num-classes "$classes" --device "$device" \
      --engine generic --batch "$batch" --samples "$samples" --warmup "$warmup" --json "$json" || status=1; }
  [ "${TORCH:-1}" = 1 ] || { publish; return; }
  # Same weights in PyTorch: check the logits first, then time both variants.
  "$py" - "$shape" "$work/images.npy" <<'PY'
import sys, numpy as np
c, h, w = (int(v) for v in sys.argv[1].split(","))
np.save(sys.argv[2], np.random.RandomState(0).rand(4, c, h, w).astype(np.float32))
PY
  "$sc" eval "npy:$work/images.npy" "$model" --device "$device" --engine generic --out "$work/logits.npy" >/dev/null ||
    status=1
  "$py" bench/pytorch_certify_bench.py "$model" --device "$device" --samples "$samples" --cohen-batch "$cbatch" \
    --best-batches "$batches" --compile "${TORCH_COMPILE:-reduce-overhead}" --check "$work/images.npy:$work/logits.npy" --json "$json" || status=1
  publish
}

[[ $sections == *,resnet110,* ]] && bench_model cifar_resnet110 3,32,32 10 "$big"
[[ $sections == *,resnet50,* ]] && bench_model resnet50 3,224,224 1000 "$mid"
# DDS's CIFAR-10 classifier alone: ViT-B/16 at 224×224 on the fast transformer (not in the default sections).
[[ $sections == *,vit,* ]] && bench_model vit 3,224,224 10 "$vit"
publish
# DDS: a random diffusion UNet in front of a classifier, on the classifier's input size; the fast denoiser in each
# precision and the generic one, then PyTorch (as published: eager fp32; best effort) after checking the denoised
# images against smoothcuda's.
bench_dds() {  # name arch shape classes denoiser-arch denoiser-flags samples batch cohen-batch best-batches [sample-shape [arch-flags]]
  local name=$1 arch=$2 shape=$3 classes=$4 darch=$5 dflags=$6 samples=$7 batch=$8 cohen=$9 best=${10}
  local sample_shape=${11:-$3} dir="$work/$name" arch_flags=()
  [ -n "${12:-}" ] && arch_flags=(--arch-flags "${12}")
  [ "$mode" != full ] && batch=2 cohen=2 best=2
  mkdir -p "$dir"
  local runs=${DDS_RUNS:-fast:fp32 fast:tf32 fast:bf16 fast:fp16 generic:fp32}
  # BEiT-L/16 at 512² (~0.7 TFLOP per sample behind the 552M UNet's 1.7): the 16-bit rows and the generic one.
  [ "$arch" = beit ] && runs=${DDS_RUNS:-fast:bf16 fast:fp16 generic:fp32}
  for run in $runs; do
    IFS=: read -r engine precision wgmma stem <<<"$run"
    SMOOTHCUDA_WGMMA=$wgmma SMOOTHCUDA_STEM_16BIT=$stem "${limit[@]}" "$sc" bench-certify --arch "$arch" --input-shape "$shape" --num-classes "$classes" \
      "${arch_flags[@]}" --denoiser-arch "$darch" --denoiser-flags "$dflags" --sample-shape "$sample_shape" \
      --device "$device" --batch "$batch" --samples "$samples" \
      --warmup "$batch" --engine "$engine" --precision "$precision" --save-model "$dir/$arch.safetensors" \
      --save-denoiser "$dir/$darch.safetensors" --json "$json" || status=1
  done
  [ "${TORCH:-1}" = 1 ] || { publish; return; }
  "$py" - "$sample_shape" "$dir/noisy.npy" <<'PY'
import sys, numpy as np
c, h, w = (int(v) for v in sys.argv[1].split(","))
r = np.random.RandomState(0)
np.save(sys.argv[2], (r.rand(2, c, h, w) + 0.25 * r.randn(2, c, h, w)).astype(np.float32))
PY
  "$sc" denoise "$dir/$darch.safetensors" 0.25 "$dir/noisy.npy" "$dir/denoised.npy" --device "$device" \
    >/dev/null || status=1
  # The classifier alone too (its PyTorch definition is this benchmark's own): logits of images at its size.
  "$py" - "$shape" "$dir/images.npy" <<'PY'
import sys, numpy as np
c, h, w = (int(v) for v in sys.argv[1].split(","))
np.save(sys.argv[2], np.random.RandomState(1).rand(2, c, h, w).astype(np.float32))
PY
  "$sc" eval "npy:$dir/images.npy" "$dir/$arch.safetensors" --device "$device" --engine generic \
    --out "$dir/logits.npy" >/dev/null || status=1
  "$py" bench/pytorch_certify_bench.py "$dir/$arch.safetensors" --denoiser "$dir/$darch.safetensors" \
    --device "$device" --samples "$samples" --cohen-batch "$cohen" --best-batches "$best" --sample-shape "$sample_shape" \
    --compile "${TORCH_COMPILE:-reduce-overhead}" --check-denoiser "$dir/noisy.npy:$dir/denoised.npy" \
    --check "$dir/images.npy:$dir/logits.npy" --json "$json" || status=1
  publish
}

# The 52M CIFAR-10 iddpm UNet in front of cifar_resnet110 (Carlini et al. published batch 200 for it).
[[ $sections == *,dds,* ]] &&
  bench_dds dds cifar_resnet110 3,32,32 10 iddpm_unet "$cifar_unet" "$dds" 500 200 500,2000
# The classifier Carlini et al. published for CIFAR-10: a ViT-B/16 at 224×224 (Hugging Face's layout, random
# weights) behind the same UNet, the 32×32 denoised images resized to 224 (not in the default sections).
[[ $sections == *,dds_vit,* ]] &&
  bench_dds dds_vit vit 3,224,224 10 iddpm_unet "$cifar_unet" "$dds_vit" 250 200 250,1000 3,32,32
# Their ImageNet classifier: timm's beit_large_patch16_512 (random weights) behind guided-diffusion's 552M UNet run
# on 224×224 samples, the denoised images resized to 512 (not in the default sections).
[[ $sections == *,dds_beit,* ]] &&
  bench_dds dds_beit beit 3,512,512 1000 adm_unet "$imagenet_unet" "$dds_imagenet" 16 16 16,32 3,224,224 \
    dim=1024,depth=24,heads=16
# ImageNet: guided-diffusion's 552M 256×256 UNet run on 224×224 samples in front of resnet50 (not in the default
# sections: about a device call of its own).
[[ $sections == *,dds_imagenet,* ]] &&
  bench_dds dds_imagenet resnet50 3,224,224 1000 adm_unet "$imagenet_unet" "$dds_imagenet" 64 32 64,128
cat "$out/certify_throughput.md"
exit $status
