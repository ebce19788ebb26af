// simt: an emulator that runs the project's CUDA kernels, compiled as host C++, on the CPU, so that CI (no
// GPU) executes their index arithmetic, tiling, software pipelining and tensor-core fragment layouts against
// the CPU reference. Every thread of a block is a fiber of one OS thread; blocks run one after another;
// __syncthreads, the warp shuffles and the warp-wide instructions (mma.sync m16n8k16 and m16n8k8 tf32,
// ldmatrix) are collectives over the fibers, and the emulator reports a deadlock (divergent barrier, a warp
// collective with lanes missing or at different instructions) instead of hanging.
//
// Not modelled: timing, coalescing and bank conflicts; races inside one barrier interval (fibers switch only
// at barriers and collectives, in a shuffled order that exposes most missing barriers; under ThreadSanitizer,
// scripts/emulator-sanitizer.sh thread, every one is reported); the mma's internal accumulation order (done
// in double here, then rounded to float). Misaligned vector accesses stop the test (the kernel units are
// compiled with UBSan's alignment check, tests/CMakeLists.txt), and so do accesses out of bounds under
// AddressSanitizer (scripts/emulator-sanitizer.sh address).
//
// A translation unit that emulates kernels includes this header first, then the project headers the kernel
// file uses, then renames the kernels' namespace (see emulated_prelude.h and emulated_kernel.cpp.in) and
// includes the .cu file itself.
#pragma once
#define SC_SIMT_EMULATOR 1

#include <cuda_bf16.h>  // host definitions of the 16-bit conversions
#include <cuda_fp16.h>
#include <cuda_runtime.h>  // dim3, uint3, uint4, float2 and their make_ functions

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <vector>

namespace simt {

struct ThreadState {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};
const ThreadState& current();  // of the running fiber

// The emulated device's limit on a block's dynamic shared memory with the opt-in (an H100's 227 KiB).
constexpr int kMaxSharedOptin = 227 * 1024;

// Runs body once per thread of every block, blocks in order, threads as fibers. Checks the launch limits
// (≤ 1024 threads, grid.y and grid.z ≤ 65535, dynamic shared memory ≤ 48 KiB or what the kernel opted in
// to) and rethrows the first exception a thread raised.
void run_grid(const void* kernel, dim3 grid, dim3 block, size_t dynamic_shared_bytes,
              const std::function<void()>& body);
// Stream capture (the emulated runtime's cudaStreamBeginCapture): while a recorder is set, run_grid checks a
// launch and appends it to the recorder instead of running it; running the recorded work later runs each
// launch with the arguments it was given, as a CUDA graph replays its kernel nodes.
void set_launch_recorder(std::vector<std::function<void()>>* recorder);
// cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) and
// cudaDeviceGetAttribute for the opt-in shared memory, the L2 cache size and the multiprocessor count (an
// H100 SXM's); other attributes are errors.
cudaError_t set_function_attribute(const void* kernel, cudaFuncAttribute attribute, int value);
cudaError_t get_device_attribute(int* value, cudaDeviceAttr attribute, int device);
// The multiprocessor count the device reports (132 unless set): a test sets 1 so that a persistent grid
// (as many blocks as stay resident) gives every block several tiles.
void set_multiprocessor_count(int count);
// The block's dynamic shared memory, filled with 0xFF bytes (NaN as float) at every block's start, like the
// static __shared__ arrays.
void* dynamic_shared();

void sync_block();
// Warp collectives; every lane of the warp must reach the same one.
// shfl.xor (source lane ^ offset) or shfl.down (source lane + offset, own value past the warp) of up to
// 64 bits.
uint64_t shuffle(uint64_t bits, int offset, bool down);
// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: d = A·B + d with this lane's fragments.
void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], bool bf16);
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: as the tensor cores, it reads the upper 19 bits of each
// float operand (the low 13 mantissa bits cleared).
void mma_m16n8k8_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]);
// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16 with this lane's row address.
void ldmatrix_x4(uint32_t r[4], const void* row, bool trans);

// cp.async.cg.shared.global of 16 bytes (global_src null: 16 zero bytes, as with a source size of 0),
// cp.async.commit_group, cp.async.wait_group n (all but the n most recent committed groups landed) and
// cp.async.wait_all. A copy lands either at once or only when its thread waits for it (or exits), by a coin
// per copy: a read before the wait sees the old bytes, and a copy into shared memory that another warp still
// reads overwrites it early, so a missing wait or barrier shows.
void cp_async_16(void* shared_dst, const void* global_src);
void cp_async_commit_group();
void cp_async_wait_group(int n);
void cp_async_wait_all();

// The shared window's address of p (cvta.to.shared), which must lie in the block's dynamic shared memory.
// That memory starts at kDynamicSharedBase, 16- but not 1024-byte aligned (on an H100 it follows a reserved
// KiB and the static arrays), so a kernel that needs a swizzle atom's alignment must align it itself.
constexpr uint32_t kDynamicSharedBase = 0x410;
uint32_t shared_address(const void* p);

// wgmma.mma_async.sync.aligned.m64nNk16.f32.{bf16,f16}.{bf16,f16} with A and B from shared memory, both
// K-major, scale-d 1 (d += A·Bᵀ): this lane's n/2 accumulators d, as laid out for a warpgroup of 4
// consecutive warps (warp w of the group holds rows 16w … 16w + 15; register 4j + q of lane l: row
// 16w + l/4 + 8·(q/2), column 8j + 2·(l%4) + q%2). The descriptors (the PTX ISA's matrix-descriptor format)
// must name the 128-byte swizzle with a zero base offset: row r, element k of an operand lies at
// start + (r/8)·stride + (r%8)·128 + 2k, its 16-byte chunk XORed with bits 7–9 of that address. Every lane
// of the warp must pass the same descriptors. The product is asynchronous, as on the device: it reads shared
// memory and writes d either at once or only at the wait that covers it (a coin per product while none is
// pending), so a missing wait or barrier shows; products of one thread run in issue order.
// wgmma_commit_group closes the thread's open group; wgmma_wait_group(n) completes all but the n most recent
// committed groups. Not modelled: the warpgroup's rendezvous (each warp computes its own 16 rows), the proxy
// fence that orders generic writes before the tensor cores' reads, and wgmma.fence.
void wgmma_m64k16(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool bf16);
void wgmma_commit_group();
void wgmma_wait_group(int n);

// What a launch checks of each pointer argument (not null): set by the emulated runtime (runtime.cpp), which
// knows the device allocations; unset, nothing is checked.
void set_pointer_check(void (*check)(const void*));
void check_pointer(const void* p);

template <typename T>
void check_argument(const T& v) {
  if constexpr (std::is_pointer_v<T>) check_pointer(v);
}

// kernel<<<grid, block, smem>>>(args...) as launcher(grid, block, smem, kernel)(args...).
template <typename... P>
auto launcher(dim3 grid, dim3 block, size_t smem, void (*kernel)(P...)) {
  return [=](auto&&... args) {
    const std::tuple<P...> params(args...);  // by value, as a launch copies the arguments
    std::apply([](const P&... p) { (check_argument(p), ...); }, params);
    // The arguments kept by value: a recorded launch (stream capture) outlives this call.
    const auto body = [kernel, params] { std::apply(kernel, params); };
    run_grid(reinterpret_cast<const void*>(kernel), grid, block, smem, body);
  };
}

}  // namespace simt

// The CUDA built-ins the kernels use.
#define threadIdx (::simt::current().thread_idx)
#define blockIdx (::simt::current().block_idx)
#define blockDim (::simt::current().block_dim)
#define gridDim (::simt::current().grid_dim)
#undef __shared__
// Static, as one block runs at a time, and in their own section, which the emulator fills with 0xFF bytes
// (NaN as float) at every block's start, as it does the dynamic shared memory: a read before a write shows.
#define __shared__ [[gnu::section("simt_shared")]] static
#define __launch_bounds__(...)
#define SC_LAUNCH(grid, block, smem, ...) ::simt::launcher(grid, block, smem, __VA_ARGS__)
#define SC_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::simt::dynamic_shared())

// The host runtime calls kernel files make around their launches.
#define cudaGetDevice(device) (*(device) = 0, cudaSuccess)
#define cudaDeviceGetAttribute(value, attribute, device) \
  ::simt::get_device_attribute(value, attribute, device)
// Residency is not emulated: 4 blocks per multiprocessor, whatever the kernel.
#define cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, kernel, threads, shared_bytes) \
  (*(blocks) = 4, cudaSuccess)
#define cudaFuncSetAttribute(kernel, attribute, value) \
  ::simt::set_function_attribute(reinterpret_cast<const void*>(kernel), attribute, value)

inline void __syncthreads() {
  simt::sync_block();
}
// Full-warp shuffles only (the emulator checks the mask).
float __shfl_xor_sync(unsigned mask, float v, int lane_mask);
int __shfl_xor_sync(unsigned mask, int v, int lane_mask);
long __shfl_xor_sync(unsigned mask, long v, int lane_mask);  // int64_t
double __shfl_xor_sync(unsigned mask, double v, int lane_mask);
float __shfl_down_sync(unsigned mask, float v, unsigned delta);
// Fibers switch only at barriers and collectives, so an atomic is a plain read-modify-write; under
// ThreadSanitizer (scripts/emulator-sanitizer.sh thread) an atomic one, which conflicts with no other atomic.
template <typename T>
T atomicAdd(T* address, T v) {
#if defined(__SANITIZE_THREAD__)
  return std::atomic_ref<T>(*address).fetch_add(v, std::memory_order_relaxed);
#else
  const T old = *address;
  *address = old + v;
  return old;
#endif
}
template <typename T>
T __ldg(const T* p) {
  return *p;
}
inline float __fdiv_rn(float a, float b) {  // IEEE operations: g++ neither contracts nor reassociates them
  return a / b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fsqrt_rn(float a) {
  return std::sqrt(a);
}
inline float __expf(float x) {
  return std::exp(x);
}
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline unsigned __umulhi(unsigned a, unsigned b) {  // the upper 32 bits of the 64-bit product
  return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
inline int min(int a, int b) {
  return a < b ? a : b;
}
inline int max(int a, int b) {
  return a < b ? b : a;
}
