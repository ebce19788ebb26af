// Single-precision matrix product for the CPU reference path: C (+)= A · B, all row-major.
// Register-blocked over four rows of A and a strip of B's columns, so the inner loop is a contiguous
// multiply-add over C's row that the compiler vectorizes; float accumulation, like PyTorch's CPU path.
#pragma once
#include <cstdint>

namespace sc::cpu {

// C[M,N] (ldc) = A[M,K] (lda) · B[K,N] (ldb), plus C's old value when accumulate is true.
// Runs on the calling thread (callers parallelize over independent products).
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, bool accumulate);

}  // namespace sc::cpu
