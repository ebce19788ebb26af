#!/usr/bin/env bash
# Everything the lent GPU machine should check, in one call: build with CUDA (sm_90a) against the packages carried
# in .deps (run scripts/gpu-deps.sh here first and name .deps in the call's carry; scripts/gpu-env.sh), or, with
# BUILD=build-carry, run the binaries that scripts/gpu-carry.sh built here (carry build-carry too: no build on the
# device); run the GPU tests (tests/gpu/: every op, the fast engine's kernels and plans, the fast denoiser,
# smoothing), the kernel microbenchmarks (hand-written vs cuDNN/cuBLAS, fused_conv in f32/tf32/bf16/f16 and both
# block shapes, attention, GroupNorm, the device's peaks), eval on CUDA against the CPU and ImageNet DDS at
# --batch auto. CI runs the CPU tests.
# Then, in a second call: bench/certify_throughput.sh $BUILD (see bench/RESULTS.md). Logs go to $LOGS; $OUT (the
# folder the device tool brings back, at most 8 files) gets device.txt, the kernel benchmarks' JSON and all logs
# as one gpu-check-logs.tar.gz; a short summary is printed last.
#
#   [BUILD=build-carry] [GPU_CHECK=build|focus] scripts/gpu-check.sh [extra cmake flags]
# GPU_CHECK=focus: the tests, then only the open work's benchmarks and certification rows (below).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OUT=${OUT:-/tmp/smoothcuda-gpu-check-out}
LOGS=${LOGS:-/tmp/smoothcuda-gpu-check}
mkdir -p "$OUT" "$LOGS"
pack() {  # everything back in three files
  cp "$LOGS/device.txt" "$OUT/" 2>/dev/null
  cp "$LOGS/bench-kernels.json" "$OUT/" 2>/dev/null
  tar czf "$OUT/gpu-check-logs.tar.gz" -C "$LOGS" . 2>/dev/null
}
trap pack EXIT
source scripts/gpu-env.sh >"$LOGS/probe.txt"
{
  cat "$LOGS/probe.txt"
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (+uncommitted changes)')"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
  nvcc --version | tail -1
} | tee "$LOGS/device.txt"

status=0
build=${BUILD:-build-gpu}
if [ "$build" != build-gpu ]; then
  [ -x "$build/smoothcuda" ] && [ -x "$build/tests/smoothcuda_gpu_tests" ] && [ -x "$build/bench/smoothcuda_bench_kernels" ] ||
    { echo "BUILD=$build: no prebuilt binaries there (scripts/gpu-carry.sh makes them)"; exit 1; }
  echo "prebuilt binaries: $build" | tee -a "$LOGS/device.txt"
else
  # The SIMT emulator's tests run in CI; building them here would only spend device time.
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSMOOTHCUDA_CUDA=ON -DSMOOTHCUDA_EMULATOR=OFF "${GPU_CMAKE_FLAGS[@]}" "$@" \
    >"$LOGS/configure.log" 2>&1 || { echo "CONFIGURE FAILED"; tail -30 "$LOGS/configure.log"; exit 1; }
  cmake --build build-gpu -j"$JOBS" >"$LOGS/build.log" 2>&1 || { echo "BUILD FAILED"; tail -40 "$LOGS/build.log"; exit 1; }
fi
[ "${GPU_CHECK:-all}" = build ] && exit 0  # GPU_CHECK=build: only (re)build, e.g. before the throughput table

# The GPU tests, a process per group with a time limit: a kernel that faults leaves its process's CUDA context
# unusable for every later test, and one that hangs never returns. So the kernels not yet run on a GPU go first,
# each group alone (the wgmma identity test first of all: it names the wrong pixels and channels), then the rest,
# with the fused stages off if their group failed. A group that stopped on a CUDA error runs again under
# compute-sanitizer's memcheck, where the machine has it, to name the access.
tests_failed=""
run_tests() {  # name gtest-filter seconds [VAR=value ...]
  local name=$1 filter=$2 limit=$3 rc
  local log="$LOGS/gpu-tests-$name.log"
  shift 3
  # The fixtures' path compiled into the tests is this checkout's only where they were built.
  local tests=("$build/tests/smoothcuda_gpu_tests" --gtest_brief=1 --gtest_filter="$filter")
  env "$@" SMOOTHCUDA_FIXTURES="$PWD/tests/fixtures" timeout -k 5 "$limit" "${tests[@]}" >"$log" 2>&1
  rc=$?
  [ $rc = 0 ] && return 0
  { [ $rc = 124 ] || [ $rc = 137 ]; } && echo "GROUP $name: TIMED OUT after ${limit} s" >>"$log"
  tests_failed+=" $name" status=1
  if grep -qE "CUDA (error|launch of|kernel)" "$log" && command -v compute-sanitizer >/dev/null; then
    env "$@" SMOOTHCUDA_FIXTURES="$PWD/tests/fixtures" timeout -k 5 60 compute-sanitizer --tool memcheck \
      --print-limit 20 "${tests[@]}" >"$LOGS/gpu-sanitizer-$name.log" 2>&1
  fi
  return 1
}
wgmma_ok=1 stages_ok=1 stem16_ok=1
run_tests wgmma-identity 'GpuFusedConv.WgmmaIdentity*' 60 || wgmma_ok=0
run_tests wgmma '*Wgmma*-GpuFusedConv.WgmmaIdentity*' 120 || wgmma_ok=0
run_tests fused-stages '*ResidualStage*:GpuPlan.FusedStages*' 120 || stages_ok=0
run_tests stem16 '*RoundedOperands*:*Stem16Bit*' 120 || stem16_ok=0
stages_env=()
[ $stages_ok = 1 ] || stages_env=(SMOOTHCUDA_FUSED_STAGES=0)
run_tests rest '-*Wgmma*:*ResidualStage*:GpuPlan.FusedStages*:*RoundedOperands*:*Stem16Bit*' 300 "${stages_env[@]}"
cat "$LOGS"/gpu-tests-*.log "$LOGS"/gpu-sanitizer-*.log >"$LOGS/gpu-tests.log" 2>/dev/null
[ -z "$tests_failed" ] || echo "GPU test groups that failed:$tests_failed" | tee -a "$LOGS/gpu-tests.log"

# The kernel microbenchmarks, a process per group with a time limit as the tests: $LOGS/bench-NAME.{txt,json}.
bench="$build/bench/smoothcuda_bench_kernels"
run_bench() {  # name filter seconds [VAR=value ...]
  local name=$1 filter=$2 limit=$3
  shift 3
  env "$@" SMOOTHCUDA_SYNC_LAUNCHES=0 timeout -k 5 "$limit" "$bench" --benchmark_min_time=0.1 \
    --benchmark_filter="$filter" --benchmark_out="$LOGS/bench-$name.json" --benchmark_out_format=json \
    >"$LOGS/bench-$name.txt" 2>&1 || { echo "BENCH $name: exit $? (124: timed out after $limit s)" >>"$LOGS/bench-$name.txt"; status=1; }
}
merge_bench() {  # group names: their rows as one bench-kernels.{txt,json} (a group cut short keeps its text)
  local name
  for name in "$@"; do cat "$LOGS/bench-$name.txt"; done >"$LOGS/bench-kernels.txt" 2>/dev/null
  python3 - "$LOGS" "$@" <<'PY'
import json, sys
merged = None
for name in sys.argv[2:]:
    try:
        part = json.load(open(f"{sys.argv[1]}/bench-{name}.json"))
    except (OSError, ValueError):
        continue
    if merged is None:
        merged = part
    else:
        merged["benchmarks"] += part["benchmarks"]
json.dump(merged or {"benchmarks": []}, open(f"{sys.argv[1]}/bench-kernels.json", "w"), indent=1)
PY
}
# The groups of kernels not yet run on a GPU; the switches' runs below are kept apart (same names, other kernels).
stages_bench='BM_ResidualStage/cuda' wgmma_bench='_wgmma/' stem16_bench='BM_NoisyInputConv/cuda_stem16/'
if [ "${GPU_CHECK:-all}" = focus ]; then
  # The open performance work in little device time (about 6 minutes on an H100, against 15 for everything),
  # most decisive first, each result into $OUT as soon as it exists (a call cut short keeps them): the GPU tests
  # (above: the fused stages' and the wgmma kernel's among them); the bf16 peak, the wide convolutions on
  # mma.sync beside cuDNN, the stems and GroupNorm; the residual stages fused and step by step at ResNet-110's
  # shapes; the wide convolutions on wgmma (the ViT's linear layers too); the 16-bit stems; the fast
  # transformer's linear layers and attention (ViT-B/16, BEiT-L/16 with its biases); then certification (bench/certify_throughput.sh;
  # $OUT gets its table): ResNet-110 with the fused stages on and off and with the 16-bit stem beside PyTorch,
  # ResNet-50 with the wgmma convolutions and the 16-bit stem off and on beside PyTorch, and DDS's fast path with
  # the wgmma convolutions off and on (no PyTorch rows: session 16 measured those); with time left, Nsight
  # Compute's kernel times of ResNet-110, ResNet-50 and DDS. Rows of a kernel whose tests failed are left out
  # (the fused stages: their rows run with them off).
  cp "$LOGS/gpu-tests.log" "$OUT/" 2>/dev/null
  run_bench main 'BM_PeakBf16Gemm|BM_PeakCopy|BM_FusedConv/cuda_bf16(_unet|_resnet50)?/|BM_CudnnConvNhwc/bf16|BM_NoisyInputConv/cuda/|BM_GroupNormNhwc|BM_TransformerLinear/cuda_f16/|BM_AttentionNhwc(Bias)?/cuda_f16' 180
  run_bench stages "$stages_bench" 60
  run_bench wgmma "$wgmma_bench" 60
  run_bench stem16 "$stem16_bench" 30
  merge_bench main stages wgmma stem16
  cp "$LOGS/bench-kernels.txt" "$LOGS/bench-kernels.json" "$OUT/" 2>/dev/null
  peak_of() {  # benchmark counter: the first row whose name starts so
    python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
print(next((round(r.get(sys.argv[3], 0)) for r in rows if r["name"].startswith(sys.argv[2])), 0))' "$LOGS/bench-kernels.json" "$@"
  }
  peak=$(peak_of BM_PeakBf16Gemm TFLOP/s) copy=$(peak_of BM_PeakCopy GB/s)
  export PEAK_TFLOPS=$peak GENERIC=0 ROW_TIMEOUT=150
  resnet110_rows="fp16:BATCH: fp16:BATCH:::0 bf16:BATCH: bf16:BATCH:::0 fp16:auto::"
  [ $stages_ok = 1 ] || resnet110_rows="fp16:BATCH:::0 bf16:BATCH:::0 fp16:auto:::0"
  [ $stem16_ok = 1 ] && resnet110_rows+=" fp16:BATCH:::$([ $stages_ok = 1 ] || echo 0)::1"
  resnet50_rows="fp16:BATCH:" dds_rows="fast:fp16"
  # (fields: precision:batch:cache bytes:graphs:fused stages:wgmma:stem, bench/certify_throughput.sh)
  # With wgmma, also without cache blocking: the roofline (bench/roofline.py) says ResNet-50 is bound by memory
  # once its convolutions are fast, which is what the blocking is for (it gained nothing with mma.sync).
  [ $wgmma_ok = 1 ] && resnet50_rows+=" fp16:BATCH::::1 fp16:BATCH:0:::1" dds_rows+=" fast:fp16:1"
  [ $stem16_ok = 1 ] && resnet50_rows+=" fp16:BATCH:::::1"
  [ $stem16_ok = 1 ] && [ $wgmma_ok = 1 ] && resnet50_rows+=" fp16:BATCH::::1:1"
  SECTIONS=resnet110 VARIANTS="$resnet110_rows" bench/certify_throughput.sh "$build" "$OUT" >"$LOGS/certify.txt" 2>&1 ||
    status=1
  APPEND=1 SECTIONS=resnet50 VARIANTS="$resnet50_rows" \
    bench/certify_throughput.sh "$build" "$OUT" >>"$LOGS/certify.txt" 2>&1 || status=1
  APPEND=1 SECTIONS=dds TORCH=0 DDS_RUNS="$dds_rows" \
    bench/certify_throughput.sh "$build" "$OUT" >>"$LOGS/certify.txt" 2>&1 || status=1
  # With time left in the call (600 s at most): Nsight Compute's kernel times with every new kernel whose tests
  # passed switched on, to say what limits each network now (bench/kernel_profile.sh; into the logs' archive).
  # DDS last: a profile cut short by the time limit keeps the ones before it.
  if [ $SECONDS -lt "${PROFILE_BEFORE:-400}" ]; then
    profiles="resnet110 resnet50 dds"
    [ $stages_ok = 1 ] || profiles="resnet110-steps resnet50 dds"
    SMOOTHCUDA_WGMMA=$wgmma_ok SMOOTHCUDA_STEM_16BIT=$stem16_ok PROFILES=$profiles SWITCHES=0 \
      timeout -k 5 150 bench/kernel_profile.sh "$build" "$LOGS/profile" >"$LOGS/profile.txt" 2>&1 || status=1
  else
    echo "no time left for the kernel profiles ($SECONDS s)" >"$LOGS/profile.txt"
  fi
  echo "== gpu tests"; grep -E "PASSED|FAILED|Failure|tests ran|TIMED OUT|failed:" "$LOGS/gpu-tests.log" | tail -25
  [ $wgmma_ok = 1 ] || echo "(wgmma's tests failed: no wgmma certification rows)"
  [ $stages_ok = 1 ] || echo "(the fused stages' tests failed: ResNet-110's rows run with them off)"
  [ $stem16_ok = 1 ] || echo "(the 16-bit stem's tests failed: no 16-bit stem rows)"
  echo "== kernels (bf16 peak $peak TFLOP/s)"; grep -E "^BM_|^BENCH" "$LOGS/bench-kernels.txt"
  echo "== certification"; cat "$OUT/certify_throughput.md" 2>/dev/null || tail -20 "$LOGS/certify.txt"
  echo "== kernel profiles (wgmma $wgmma_ok, 16-bit stem $stem16_ok; after $SECONDS s)"; cat "$LOGS/profile.txt"
  # What no kernel can beat on this device, from its measured peaks (bench/roofline.py).
  [ "$peak" -gt 0 ] && [ "$copy" -gt 0 ] && echo "== roofline" && python3 bench/roofline.py --peak-tflops "$peak" --gbps "$copy"
  exit $status
fi
# The GPU cases only (the CPU ones say nothing about the device, and the whole set runs past 200 s at 0.2 s each).
run_bench main "-/cpu|$stages_bench|$wgmma_bench|$stem16_bench" 300
run_bench stages "$stages_bench" 60
run_bench wgmma "$wgmma_bench" 60
run_bench stem16 "$stem16_bench" 30
merge_bench main stages wgmma stem16
# The same UNet-width convolutions with 128×64 blocks instead of 128×128 (kernels/cuda/fused_conv.cu).
run_bench narrow-tiles 'BM_FusedConv/cuda_(tf32|bf16|f16)_unet/' 60 SMOOTHCUDA_WIDE_TILES=0
# The ResNet stages' 3×3 convolutions through the implicit GEMM instead of the halo kernel.
run_bench no-halo 'BM_FusedConv/cuda_(bf16|f16)(_batch)?/' 60 SMOOTHCUDA_HALO_CONV=0
for dev in cpu cuda; do  # random 28×28 images (no dataset travels), the demo LeNet
  "$build/smoothcuda" eval fake:1000:1:28:28 models/lenet_fmnist_sigma0.25.pt --dataset fashion-mnist --device $dev --batch 500 \
    --out "$LOGS/logits-$dev.npy" >"$LOGS/eval-$dev.txt" 2>&1 || status=1
done
# ImageNet DDS at --batch auto (guided-diffusion's 552 M UNet on 224×224 + ResNet-50, random weights): the
# memory-sized batch (100 samples on an H100) passed the fp32 tile kernel's grid limit in session 16.
source bench/denoiser_flags.sh
"$build/smoothcuda" bench-certify --arch resnet50 --input-shape 3,224,224 --num-classes 1000 --denoiser-arch adm_unet \
  --denoiser-flags "$imagenet_unet" --device cuda --engine fast --batch auto --samples 200 --warmup 100 \
  >"$LOGS/dds-imagenet-auto.txt" 2>&1 || status=1

echo "== gpu tests";  grep -E "PASSED|FAILED|Failure|tests ran|TIMED OUT|failed:" "$LOGS/gpu-tests.log" | tail -25
echo "== eval";       cat "$LOGS/eval-cpu.txt" "$LOGS/eval-cuda.txt"
echo "== ImageNet DDS, --batch auto"; grep -E "batch auto|samples_per_s|error" "$LOGS/dds-imagenet-auto.txt" | cut -c1-300
python3 -c "import numpy as np, sys; a, b = (np.load(f) for f in sys.argv[1:]); print('logits, cuda vs cpu: max abs diff', float(abs(a - b).max()))" \
  "$LOGS/logits-cpu.npy" "$LOGS/logits-cuda.npy" || status=1
echo "== kernels";    grep -E "^BM_|^BENCH" "$LOGS/bench-kernels.txt" | grep -v "/cpu/"
echo "== UNet convolutions, 128x64 blocks"; grep -E "^BM_|^BENCH" "$LOGS/bench-narrow-tiles.txt"
echo "== ResNet convolutions without the halo kernel"; grep -E "^BM_|^BENCH" "$LOGS/bench-no-halo.txt"
# The certification table (bench/certify_throughput.sh $BUILD) is the next call.
exit $status
