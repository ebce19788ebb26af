// Single-precision matrix product for the CPU reference path: C (+)= A · B, all row-major.
// Tiles of 6 rows × 16 columns of C stay in vector registers while K streams past; float accumulation, like
// PyTorch's CPU path. Each element of C is the sum of its products in k order, separately rounded (no fused
// multiply-add), whatever the instruction set: the same bits on every CPU and for any blocking.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/isa_variants.h"

namespace sc::cpu {

// C[M,N] (ldc) = A[M,K] (lda) · B[K,N] (ldb), plus C's old value when accumulate is true.
// Runs on the calling thread (callers parallelize over independent products).
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, bool accumulate);

// The same product with A read through windows, without copying them out: column k = w·L + l of A's row i is
// A[i·lda + w·window_stride + l], K = windows · L. A stride-1 convolution multiplies its NHWC input this way:
// row i an output pixel, window w one row of the kernel (KW·C consecutive floats), window_stride one image
// row. sgemm is the case of one window.
void sgemm_windows(int64_t M, int64_t N, int64_t windows, int64_t L, const float* A, int64_t lda,
                   int64_t window_stride, const float* B, int64_t ldb, float* C, int64_t ldc,
                   bool accumulate);

// N rounded up to the width of sgemm's register tiles (8 columns up to 8, else multiples of 16). A caller
// that can hold that many columns (zero in B's padding columns, dropped from C's) runs full tiles only: the
// last partial tile otherwise goes through copies of its columns.
int64_t sgemm_tile_columns(int64_t N);

// The instruction-set variants this CPU runs, fastest first (sgemm and sgemm_windows use the first): AVX-512,
// AVX2, SSE, each with sgemm_windows' arguments. Tests check each one's bits.
using SgemmFunction = void (*)(int64_t, int64_t, int64_t, int64_t, const float*, int64_t, int64_t,
                               const float*, int64_t, float*, int64_t, bool);
using SgemmVariant = IsaVariant<SgemmFunction>;
std::vector<SgemmVariant> sgemm_variants();

}  // namespace sc::cpu
