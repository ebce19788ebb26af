// 16-bit storage types on the device: conversions of BFloat16/Half (nn/half.h, raw bits) to and from float,
// and the tensor-core instructions that load and multiply them, with the TF32 product of float32 operands
// (on the CPU, tests/simt emulates those).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "nn/half.h"

namespace sc::cuda {

template <typename T>
struct Half16;

template <>
struct Half16<BFloat16> {
  static __device__ __forceinline__ float to_float(uint16_t u) {
    return __bfloat162float(__ushort_as_bfloat16(u));
  }
  static __device__ __forceinline__ uint16_t from_float(float v) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  }
  // D = A·B + C for one m16n8k16 tile (A row-major 16×16, B column-major 16×8, float accumulators).
  static __device__ __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#ifdef SC_SIMT_EMULATOR
    ::simt::mma_m16n8k16(d, a, b, true);
#else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
  }
};

template <>
struct Half16<Half> {
  static __device__ __forceinline__ float to_float(uint16_t u) { return __half2float(__ushort_as_half(u)); }
  static __device__ __forceinline__ uint16_t from_float(float v) {
    return __half_as_ushort(__float2half_rn(v));
  }
  static __device__ __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#ifdef SC_SIMT_EMULATOR
    ::simt::mma_m16n8k16(d, a, b, false);
#else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
  }
};

// D = A·B + C for one m16n8k8 TF32 tile (A row-major 16×8, B column-major 8×8, float accumulators), with
// the operands' float bits already rounded to TF32 (round_tf32): the tensor cores read only their upper 19
// bits. Fragments: a[i] holds A(grp + 8·(i % 2), tig + 4·(i / 2)), b[i] holds B(tig + 4·i, grp), with
// grp = lane / 4 and tig = lane % 4, which is what ldmatrix gives from rows of 4 floats (16 bytes) as it
// does from rows of 8 16-bit elements.
__device__ __forceinline__ void mma_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]) {
#ifdef SC_SIMT_EMULATOR
  ::simt::mma_m16n8k8_tf32(d, a, b);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

// ldmatrix: the warp loads four 8×8 tiles of 16-bit elements from shared memory; lane l gives the address of
// row l % 8 of tile l / 8 (16 contiguous bytes, 16-byte aligned). Plain: lane l receives r[i] = tile i's
// (row l/4, columns 2(l%4), 2(l%4)+1), an A fragment (or B with k along the row). Transposed: r[i] = tile i's
// (rows 2(l%4), 2(l%4)+1, column l/4), a B fragment from a tile stored with k down the columns.
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void* row) {
#ifdef SC_SIMT_EMULATOR
  ::simt::ldmatrix_x4(r, row, false);
#else
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#endif
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const void* row) {
#ifdef SC_SIMT_EMULATOR
  ::simt::ldmatrix_x4(r, row, true);
#else
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#endif
}

// Element loads and stores through float for every activation type.
__device__ __forceinline__ float load_f32(const float* p) {
  return *p;
}
__device__ __forceinline__ float load_f32(const BFloat16* p) {
  return Half16<BFloat16>::to_float(p->bits);
}
__device__ __forceinline__ float load_f32(const Half* p) {
  return Half16<Half>::to_float(p->bits);
}
__device__ __forceinline__ void store_f32(float* p, float v) {
  *p = v;
}
__device__ __forceinline__ void store_f32(BFloat16* p, float v) {
  p->bits = Half16<BFloat16>::from_float(v);
}
__device__ __forceinline__ void store_f32(Half* p, float v) {
  p->bits = Half16<Half>::from_float(v);
}

// Two floats rounded to T and packed into one 32-bit word, v0 in the low half (the lower address).
template <typename T>
__device__ __forceinline__ uint32_t pack_pair(float v0, float v1) {
  return static_cast<uint32_t>(Half16<T>::from_float(v0)) |
         (static_cast<uint32_t>(Half16<T>::from_float(v1)) << 16);
}

// v rounded to T's precision (the identity for float).
template <typename T>
__device__ __forceinline__ float round_to(float v) {
  T t;
  store_f32(&t, v);
  return load_f32(&t);
}

}  // namespace sc::cuda
