// Shared device helpers: element loads/stores through float for every dtype, launch shapes.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "nn/cuda_check.h"
#include "nn/tensor.h"

namespace sc::cuda {

constexpr int kThreads = 256;

// kernel<<<grid, block, smem, stream()>>>, written SC_LAUNCH(grid, block, smem, kernel)(args...) so that the
// SIMT emulator (tests/simt) can run the same launch on the CPU; likewise the dynamic shared memory array.
#ifndef SC_SIMT_EMULATOR
#define SC_LAUNCH(grid, block, smem, ...) __VA_ARGS__<<<grid, block, smem, ::sc::cuda::stream()>>>
#define SC_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

// Grid-stride loop over [0, n).
#define SC_GRID_STRIDE_LOOP(i, n) \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

__device__ __forceinline__ double to_double(float v) { return v; }
__device__ __forceinline__ double to_double(Half v) { return __half2float(__ushort_as_half(v.bits)); }
__device__ __forceinline__ double to_double(BFloat16 v) { return __bfloat162float(__ushort_as_bfloat16(v.bits)); }
__device__ __forceinline__ double to_double(int32_t v) { return v; }
__device__ __forceinline__ double to_double(int64_t v) { return static_cast<double>(v); }
__device__ __forceinline__ double to_double(uint8_t v) { return v; }

template <typename T>
__device__ __forceinline__ T from_double(double v);
template <> __device__ __forceinline__ float from_double<float>(double v) { return static_cast<float>(v); }
template <> __device__ __forceinline__ Half from_double<Half>(double v) {
  Half h;
  h.bits = __half_as_ushort(__float2half_rn(static_cast<float>(v)));
  return h;
}
template <> __device__ __forceinline__ BFloat16 from_double<BFloat16>(double v) {
  BFloat16 b;
  b.bits = __bfloat16_as_ushort(__float2bfloat16_rn(static_cast<float>(v)));
  return b;
}
template <> __device__ __forceinline__ int32_t from_double<int32_t>(double v) { return static_cast<int32_t>(v); }
template <> __device__ __forceinline__ int64_t from_double<int64_t>(double v) { return static_cast<int64_t>(v); }
template <> __device__ __forceinline__ uint8_t from_double<uint8_t>(double v) { return static_cast<uint8_t>(v); }

// n / d for 0 ≤ n < 2^31 by a multiply-high and a shift (division by an invariant integer, Granlund and
// Montgomery), for index arithmetic whose divisor is fixed at launch: a 32-bit division is ~20 instructions.
// With l = ⌈log2 d⌉ and m = ⌈2^(31+l) / d⌉ (< 2^32 since d > 2^(l−1)), ⌊n·m / 2^(31+l)⌋ = ⌊n / d⌋: the error
// e = m·d − 2^(31+l) is below d, so n·e < 2^(31+l) cannot carry the quotient past the next multiple. d = 1 passes
// n through (its m would need 33 bits).
struct FastDivisor {
  int d = 1;
  unsigned mul = 0;
  int shift = 0;
  FastDivisor() = default;
  explicit FastDivisor(int divisor) : d(divisor) {
    SC_CHECK(divisor >= 1, "FastDivisor: divisor ", divisor, " must be positive");
    if (divisor == 1) return;
    int l = 0;
    while ((int64_t{1} << l) < divisor) ++l;
    mul = static_cast<unsigned>(((uint64_t{1} << (31 + l)) + static_cast<uint64_t>(divisor) - 1) /
                                static_cast<uint64_t>(divisor));
    shift = l - 1;
  }
  __device__ __forceinline__ int div(int n) const {
    return d == 1 ? n : static_cast<int>(__umulhi(static_cast<unsigned>(n), mul) >> shift);
  }
};

// Calls f.template operator()<T>() with T the C++ type of dtype.
template <typename F>
void visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: f.template operator()<float>(); break;
    case DType::F16: f.template operator()<Half>(); break;
    case DType::BF16: f.template operator()<BFloat16>(); break;
    case DType::I32: f.template operator()<int32_t>(); break;
    case DType::I64: f.template operator()<int64_t>(); break;
    case DType::U8: f.template operator()<uint8_t>(); break;
  }
}

// The most dynamic shared memory a block of the current device may opt in to (cudaFuncSetAttribute).
inline int max_shared_bytes_optin() {
  int device = 0, bytes = 0;
  SC_CUDA_CHECK(cudaGetDevice(&device));
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return bytes;
}

// Lets `kernel` launch with `bytes` of dynamic shared memory (past the default 48 KiB, up to
// max_shared_bytes_optin()). The runtime is asked once per kernel, device and larger size: launches are many
// (cache blocking multiplies them), and while a CUDA graph is captured they should ask the runtime nothing.
inline void opt_in_shared_memory(const void* kernel, size_t bytes) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, size_t> opted;
  int device = 0;
  SC_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  size_t& have = opted[{kernel, device}];
  if (bytes <= have) return;
  SC_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  have = bytes;
}

// Blocks of a persistent kernel that stay resident on the whole current device with `smem` bytes of dynamic
// shared memory (opted in here), registers allowing; `occupancy(&per_sm)` asks the runtime. Kept per kernel,
// device and size: cache blocking makes these launches many per batch, and the answer never changes. `what`
// names the kernel's tile in the error when it needs more shared memory than a block may have.
template <typename Occupancy>
int resident_blocks(const void* kernel, size_t smem, Occupancy occupancy, const char* what) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, int, size_t>, int> known;
  int device = 0;
  SC_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(kernel, device, smem);
  if (const auto it = known.find(key); it != known.end()) return it->second;
  SC_CHECK(smem <= static_cast<size_t>(max_shared_bytes_optin()), what, " needs ", smem,
           " bytes of shared memory, more than a block may have (", max_shared_bytes_optin(), ")");
  opt_in_shared_memory(kernel, smem);
  int sms = 0, per_sm = 0;
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  SC_CUDA_CHECK(occupancy(&per_sm));
  return known[key] = sms * (per_sm > 1 ? per_sm : 1);
}

// Kernels that only move bits (concat, NHWC upsampling, strided copies) move `unit` bytes per access: the widest
// of 16, 8, 4, 2 and 1 that divides every byte count they step by and every address, so that bf16 channels
// go 8 to a 16-byte access instead of one.
inline int move_unit(std::initializer_list<long long> byte_counts, std::initializer_list<const void*> addresses) {
  int unit = 16;
  for (long long b : byte_counts)
    while (b % unit != 0) unit /= 2;
  for (const void* p : addresses)
    while (reinterpret_cast<uintptr_t>(p) % unit != 0) unit /= 2;
  return unit;
}

// Calls f.template operator()<U>() with U an unsigned type of `unit` bytes (16, 8, 4, 2 or 1).
template <typename F>
void visit_move_unit(int unit, F&& f) {
  switch (unit) {
    case 16: f.template operator()<uint4>(); break;
    case 8: f.template operator()<uint2>(); break;
    case 4: f.template operator()<uint32_t>(); break;
    case 2: f.template operator()<uint16_t>(); break;
    default: f.template operator()<uint8_t>(); break;
  }
}

}  // namespace sc::cuda
