#!/usr/bin/env bash
# The CUDA kernels on the SIMT emulator (tests/simt) under a sanitizer, for what the emulator's own checks (UBSan's
# alignment check, NaN-poisoned shared memory, shuffled schedules) can miss:
#   address  AddressSanitizer: an access past the end of a tensor, of a kernel's shared memory or of a fiber's
#            stack stops the test with the kernel's line. Device blocks have their tensor's exact size then
#            (nn/memory.cpp, tests/simt/runtime.cpp), so no rounding hides an overrun.
#   thread   ThreadSanitizer: two threads of a block that touch one shared or global address, one of them
#            writing, with no __syncthreads between them stop the test with both accesses' lines, whatever the
#            schedule. The emulator declares its fibers, the CUDA orderings and the accesses it makes for a
#            thread (ldmatrix, cp.async, wgmma) to the detector (SMOOTHCUDA_SIMT_RACES, tests/simt/simt.cpp);
#            races between blocks are not seen (blocks run in turn). One OpenMP thread: the CPU reference's
#            threads are not what is checked.
# Builds build-asan/ or build-tsan/ (the two emulator test programs only: 10–25 minutes on 2 cores the first
# time) and runs what CI runs of them (12–40 minutes). Not part of CI, for its time; run it after a kernel
# change.
#
#   scripts/emulator-sanitizer.sh address|thread [gtest filter for the emulated GPU tests]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sanitizer=${1:?address or thread}
case $sanitizer in
  address) dir=build-asan flags="-fsanitize=address -fno-omit-frame-pointer" races=OFF
    export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 ;;
  thread) dir=build-tsan flags=-fsanitize=thread races=ON
    export TSAN_OPTIONS=halt_on_error=1 OMP_NUM_THREADS=1 ;;
  *) echo "emulator-sanitizer: address or thread, not '$sanitizer'"; exit 2 ;;
esac
command -v nvcc >/dev/null || { echo "emulator-sanitizer: the emulator needs the CUDA headers (no nvcc found)"; exit 1; }
cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMOOTHCUDA_BENCH=OFF -DSMOOTHCUDA_SIMT_RACES=$races \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitizer" >/dev/null
cmake --build $dir -j"$JOBS" --target smoothcuda_simt_tests smoothcuda_gpu_emulated_tests
export SMOOTHCUDA_FIXTURES="$PWD/tests/fixtures"
$dir/tests/smoothcuda_simt_tests --gtest_brief=1
# The cases CTest runs (tests/CMakeLists.txt): not the vendor stubs, not the 5-minute certification.
$dir/tests/smoothcuda_gpu_emulated_tests --gtest_brief=1 \
  --gtest_filter="${2:--AllOps/*_vendor:GpuSmoothing.CertifyAgreesWithCpu}"
echo "emulator-sanitizer: nothing reported ($sanitizer)"
