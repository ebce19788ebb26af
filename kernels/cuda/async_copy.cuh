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

// Waits until every cp.async this thread issued has landed.
__device__ __forceinline__ void cp_async_wait_all() {
#ifdef SC_SIMT_EMULATOR
  ::simt::cp_async_wait_all();
#else
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

}  // namespace sc::cuda
