#!/usr/bin/env bash
# Fuzzes the readers of untrusted files (tests/fuzz/input_parsers.cpp) with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer: builds a CPU-only, instrumented copy of the library with Clang in build-fuzz/, then
# runs every parser (or those named) for FUZZ_SECONDS each (default 60), starting from its seeds in
# tests/fuzz/seeds.txt. The corpus grows in build-fuzz/corpus/PARSER; an input that crashes, trips a sanitizer
# or throws anything but sc::Error is left in build-fuzz/findings/PARSER and the script fails. Copy a finding,
# once fixed, to tests/fuzz/regressions/PARSER/ so that the corrupt-input test replays it in CI.
#
#   scripts/fuzz.sh                     # every parser, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh checkpoint pickle
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
if ! command -v clang++ >/dev/null; then
  echo "fuzz: installing clang"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi
scripts/setup.sh
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DSMOOTHCUDA_CUDA=OFF \
  -DSMOOTHCUDA_TESTS=OFF -DSMOOTHCUDA_BENCH=OFF -DSMOOTHCUDA_FUZZ=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -Wno-pass-failed" >/dev/null
cmake --build build-fuzz --target smoothcuda_fuzz -j "$(nproc)"

parsers=("$@")
if [ ${#parsers[@]} -eq 0 ]; then
  mapfile -t parsers < <(grep -v '^#' tests/fuzz/seeds.txt | awk 'NF {print $1}' | uniq)
fi
failed=()
for p in "${parsers[@]}"; do
  corpus=build-fuzz/corpus/$p findings=build-fuzz/findings/$p
  mkdir -p "$corpus" "$findings"
  grep -v '^#' tests/fuzz/seeds.txt | awk -v p="$p" '$1 == p {print $2}' | while read -r seed; do
    cp "tests/$seed" "$corpus/seed-$(basename "$seed")"
  done
  [ -n "$(ls -A "$corpus")" ] || { echo "fuzz: no seeds for '$p' in tests/fuzz/seeds.txt" >&2; exit 2; }
  echo "fuzz: $p for ${seconds}s"
  # Room for the largest seed to grow (within 1 MB: the 30 MB CIFAR batch is fuzzed by its head); RSS capped
  # so that a file announcing a huge size is a finding.
  largest=$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -1)
  max_len=$(( largest + 4096 > 100000 ? largest + 4096 : 100000 ))
  max_len=$(( max_len < 1000000 ? max_len : 1000000 ))
  if ! SC_FUZZ_TARGET=$p ./build-fuzz/tests/fuzz/smoothcuda_fuzz "$corpus" -max_total_time="$seconds" \
       -max_len="$max_len" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$findings/" 2>"build-fuzz/$p.log"; then
    failed+=("$p")
    grep -E "ERROR|SUMMARY|terminate|what\(\)" "build-fuzz/$p.log" | head -5
  fi
  grep -E "stat::number_of_executed_units|cov:" "build-fuzz/$p.log" | tail -2
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings for ${failed[*]} (inputs in build-fuzz/findings/, logs in build-fuzz/*.log)" >&2
  exit 1
fi
echo "fuzz: no findings"
