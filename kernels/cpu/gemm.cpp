#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>

namespace sc::cpu {
namespace {

// Sixteen floats: one AVX-512 register, two AVX2 ones, four SSE ones; GCC lowers the vector extension to
// whatever the clone below is compiled for. memcpy loads and stores, so no alignment is assumed.
typedef float Vec16 __attribute__((vector_size(64)));
constexpr int64_t kWidth = 16;
constexpr int kRows = 6;  // 6 × 16 accumulators: 6 zmm, or 12 of AVX2's 16 ymm registers

// C[0..R) × [0..16) += A[0..R) · B[.., 0..16) with the tile of C in registers for the whole of K.
template <int R>
__attribute__((always_inline)) inline void tile(int64_t K, const float* A, int64_t lda, const float* B,
                                                int64_t ldb, float* C, int64_t ldc) {
  Vec16 acc[R];
  for (int r = 0; r < R; ++r) std::memcpy(&acc[r], C + r * ldc, sizeof(Vec16));
  for (int64_t k = 0; k < K; ++k) {
    Vec16 b;
    std::memcpy(&b, B + k * ldb, sizeof(Vec16));
    for (int r = 0; r < R; ++r) acc[r] += A[r * lda + k] * b;
  }
  for (int r = 0; r < R; ++r) std::memcpy(C + r * ldc, &acc[r], sizeof(Vec16));
}

// tile<rows> for rows ≤ R (the last row block may be short), inlined like tile into each clone below.
template <int R>
__attribute__((always_inline)) inline void tile_rows(int64_t rows, int64_t K, const float* A, int64_t lda,
                                                     const float* B, int64_t ldb, float* C, int64_t ldc) {
  if constexpr (R > 1)
    if (rows < R) return tile_rows<R - 1>(rows, K, A, lda, B, ldb, C, ldc);
  tile<R>(K, A, lda, B, ldb, C, ldc);
}

// The columns past the last full tile, one element at a time in the same order.
void edge(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
          int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float c = C[i * ldc + j];
      for (int64_t k = 0; k < K; ++k) c += A[i * lda + k] * B[k * ldb + j];
      C[i * ldc + j] = c;
    }
}

}  // namespace

// One clone per instruction set, chosen when the program loads; all of them add the products of each C
// element in the same order (k ascending, no fused multiply-add), so the results are the same bits on every
// CPU.
__attribute__((target_clones("default", "avx2", "avx512f"))) void sgemm(int64_t M, int64_t N, int64_t K,
                                                                        const float* A, int64_t lda,
                                                                        const float* B, int64_t ldb, float* C,
                                                                        int64_t ldc, bool accumulate) {
  if (!accumulate)
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, static_cast<size_t>(N) * sizeof(float));
  // A strip of B's columns (K × 256 floats) stays in L2 while every row block of A passes over it.
  constexpr int64_t kStrip = 256;
  const int64_t full = N / kWidth * kWidth;
  for (int64_t j0 = 0; j0 < full; j0 += kStrip) {
    const int64_t j1 = std::min(full, j0 + kStrip);
    for (int64_t i = 0; i < M; i += kRows) {
      const float* a = A + i * lda;
      for (int64_t j = j0; j < j1; j += kWidth) {
        const float* b = B + j;
        float* c = C + i * ldc + j;
        tile_rows<kRows>(std::min<int64_t>(kRows, M - i), K, a, lda, b, ldb, c, ldc);
      }
    }
  }
  if (full < N) edge(M, N - full, K, A, lda, B + full, ldb, C + full, ldc);
}

}  // namespace sc::cpu
