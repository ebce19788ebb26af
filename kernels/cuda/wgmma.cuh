// Hopper's warpgroup matrix multiply (wgmma, sm_90a): a warpgroup of 4 consecutive warps (its first warp's
// index divisible by 4) multiplies a 64×16 tile of A by a 16×N tile of B, both read by the tensor cores
// straight from shared memory through matrix descriptors, into float32 accumulators in the registers of its
// 128 threads, asynchronously: wgmma_fence before a batch, wgmma_commit_group after it, wgmma_wait_group
// before the accumulators or the operands' shared memory are touched again. Shared memory that ordinary
// stores or cp.async wrote needs fence_proxy_async in each writing thread before the barrier that precedes
// the tensor cores' reads. The SIMT emulator (tests/simt) runs the same calls on the CPU.
//
// Operand layout used here (the PTX ISA's canonical K-major layout with the 128-byte swizzle): rows of 64
// 16-bit k (128 bytes), 8 rows to a 1024-byte atom whose address is 1024-aligned, the 16-byte chunk c of row
// r stored at chunk position c ^ (r % 8). A 16-deep k slice starts 32 bytes further into the rows; the
// descriptor's stride is the 1024 bytes between 8-row groups.
#pragma once
#include <cstdint>

namespace sc::cuda {

// wgmma exists in this compilation pass: the sm_90a device pass, or the emulator.
#if defined(SC_SIMT_EMULATOR) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SC_HAS_WGMMA 1
#endif

// The shared window's address of a pointer into shared memory.
__device__ __forceinline__ uint32_t shared_address(const void* p) {
#ifdef SC_SIMT_EMULATOR
  return ::simt::shared_address(p);
#else
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
#endif
}

// The matrix descriptor of a K-major tile in 128-byte swizzled rows whose 16-deep k slice starts at shared
// address `address` (its atom 1024-aligned): start / 16 in bits 0–13, the leading offset (unused by this
// layout; 1) in bits 16–29, the 8-row stride 1024 / 16 in bits 32–45, base offset 0, swizzle mode 1 (128 B)
// in bits 62–63.
__device__ __forceinline__ uint64_t swizzle128_descriptor(uint32_t address) {
  return static_cast<uint64_t>((address & 0x3FFFF) >> 4) | (uint64_t{1} << 16) | (uint64_t{1024 >> 4} << 32) |
         (uint64_t{1} << 62);
}

__device__ __forceinline__ void fence_proxy_async() {
#ifndef SC_SIMT_EMULATOR
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wgmma_fence() {
#if !defined(SC_SIMT_EMULATOR) && defined(SC_HAS_WGMMA)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wgmma_commit_group() {
#ifdef SC_SIMT_EMULATOR
  ::simt::wgmma_commit_group();
#elif defined(SC_HAS_WGMMA)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}

template <int N>
__device__ __forceinline__ void wgmma_wait_group() {
#ifdef SC_SIMT_EMULATOR
  ::simt::wgmma_wait_group(N);
#elif defined(SC_HAS_WGMMA)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}

// Keeps the compiler from moving reads or writes of accumulator v across the asynchronous products: an empty
// asm that "modifies" it, placed after the wait (asm volatile statements keep their order).
template <int R>
__device__ __forceinline__ void fence_accumulators([[maybe_unused]] float (&v)[R]) {
#ifndef SC_SIMT_EMULATOR
#pragma unroll
  for (int i = 0; i < R; ++i) asm volatile("" : "+f"(v[i])::"memory");
#endif
}

// d (this thread's N/2 accumulators) += A (64×16, descriptor a) · B (N×16, descriptor b)ᵀ, 16-bit operands
// (bfloat16 when BF16, else float16), both K-major. Register 4j + q of lane l of warp w (of the group):
// row 16w + l/4 + 8·(q/2), column 8j + 2·(l%4) + q%2.
template <int N, bool BF16>
struct WgmmaM64 {
  static_assert(N == 64 || N == 128 || N == 256, "the widths built here");
  static __device__ __forceinline__ void run(float (&d)[N / 2], uint64_t a, uint64_t b);
};

#ifdef SC_SIMT_EMULATOR
template <int N, bool BF16>
__device__ __forceinline__ void WgmmaM64<N, BF16>::run(float (&d)[N / 2], uint64_t a, uint64_t b) {
  ::simt::wgmma_m64k16(d, N, a, b, BF16);
}
#else
// The asm operand lists of the N/2 accumulators, each width the one before and its second half.
#define SC_WGMMA_D32                                                       \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define SC_WGMMA_D64                                                                     \
  SC_WGMMA_D32                                                                           \
      ", "                                                                               \
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define SC_WGMMA_D128                                                                                \
  SC_WGMMA_D64                                                                                       \
      ", "                                                                                           \
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "             \
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "             \
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
#define SC_WGMMA_OPERANDS_32                                                                                \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),           \
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
      "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),            \
      "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),            \
      "+f"(d[30]), "+f"(d[31])
#define SC_WGMMA_OPERANDS_64                                                                          \
  SC_WGMMA_OPERANDS_32, "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), \
      "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]),      \
      "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]),      \
      "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]),      \
      "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
#define SC_WGMMA_OPERANDS_128                                                                           \
  SC_WGMMA_OPERANDS_64, "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),   \
      "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]),        \
      "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),        \
      "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]),        \
      "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),        \
      "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),   \
      "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
      "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), \
      "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), \
      "+f"(d[126]), "+f"(d[127])
// The products' operand numbers: A's descriptor %R, B's %R+1, the scale-d flag %R+2, after the R
// accumulators.
#define SC_WGMMA(N, R, TYPE, BF16, DESC_A, DESC_B, SCALE_D)                                          \
  template <>                                                                                        \
  __device__ __forceinline__ void WgmmaM64<N, BF16>::run(float(&d)[N / 2], uint64_t a, uint64_t b) { \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " SCALE_D                                         \
                 ", 0;\n"                                                                            \
                 "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TYPE "." TYPE " {" SC_WGMMA_D##R  \
                 "}, " DESC_A ", " DESC_B ", p, 1, 1, 0, 0;\n}\n"                                    \
                 : SC_WGMMA_OPERANDS_##R                                                             \
                 : "l"(a), "l"(b), "r"(1));                                                          \
  }
#if defined(SC_HAS_WGMMA)
SC_WGMMA(64, 32, "bf16", true, "%32", "%33", "%34")
SC_WGMMA(64, 32, "f16", false, "%32", "%33", "%34")
SC_WGMMA(128, 64, "bf16", true, "%64", "%65", "%66")
SC_WGMMA(128, 64, "f16", false, "%64", "%65", "%66")
SC_WGMMA(256, 128, "bf16", true, "%128", "%129", "%130")
SC_WGMMA(256, 128, "f16", false, "%128", "%129", "%130")
#endif
#undef SC_WGMMA
#undef SC_WGMMA_D32
#undef SC_WGMMA_D64
#undef SC_WGMMA_D128
#undef SC_WGMMA_OPERANDS_32
#undef SC_WGMMA_OPERANDS_64
#undef SC_WGMMA_OPERANDS_128
#endif

}  // namespace sc::cuda
