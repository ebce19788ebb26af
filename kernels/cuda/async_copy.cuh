// Asynchronous copies from global to shared memory (sm_80+): a 16-byte cp.async bypasses the registers and
// L1, so a block can fetch its next operands while it computes on the current ones. The copies of a thread
// land by its cp_async_wait_all(); other threads see them after the barrier that follows. The SIMT emulator
// (tests/simt) lands each copy either at once or only at the wait, so a missing wait or barrier shows there.
#pragma once
#include <cstdint>

namespace sc::cuda {

// 16 bytes from global `src` to shared `dst`, both 16-byte aligned.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src) {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_16(dst, src);
#else
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src) : "memory");
#endif
}

// 16 bytes from global `src` to shared `dst`, or 16 zero bytes when `fill_zero` (the copy then reads
// nothing: a source size of 0), so that padding takes the same path as data.
__device__ __forceinline__ void cp_async_16_or_zero(void* dst, const void* src, bool fill_zero) {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_16(dst, fill_zero ? nullptr : src);
#else
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(fill_zero ? 0 : 16)
               : "memory");
#endif
}

// Closes this thread's group of copies issued since the last commit.
__device__ __forceinline__ void cp_async_commit_group() {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_commit_group();
#else
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

// Waits until all but the N most recently committed groups of this thread have landed.
template <int N>
__device__ __forceinline__ void cp_async_wait_group() {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_wait_group(N);
#else
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

// Waits until every cp.async this thread issued has landed.
__device__ __forceinline__ void cp_async_wait_all() {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_wait_all();
#else
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

}  // namespace sc::cuda
