#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>

namespace sc::cpu {

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, bool accumulate) {
  if (!accumulate)
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, static_cast<size_t>(N) * sizeof(float));
  constexpr int64_t kStrip = 512;  // columns of C kept hot in L1 while K streams past
  for (int64_t j0 = 0; j0 < N; j0 += kStrip) {
    const int64_t nj = std::min(kStrip, N - j0);
    int64_t i = 0;
    for (; i + 4 <= M; i += 4) {
      float* c0 = C + i * ldc + j0;
      float* c1 = c0 + ldc;
      float* c2 = c1 + ldc;
      float* c3 = c2 + ldc;
      for (int64_t k = 0; k < K; ++k) {
        const float a0 = A[i * lda + k], a1 = A[(i + 1) * lda + k];
        const float a2 = A[(i + 2) * lda + k], a3 = A[(i + 3) * lda + k];
        const float* b = B + k * ldb + j0;
        for (int64_t j = 0; j < nj; ++j) {
          const float bj = b[j];
          c0[j] += a0 * bj;
          c1[j] += a1 * bj;
          c2[j] += a2 * bj;
          c3[j] += a3 * bj;
        }
      }
    }
    for (; i < M; ++i) {
      float* c = C + i * ldc + j0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = A[i * lda + k];
        const float* b = B + k * ldb + j0;
        for (int64_t j = 0; j < nj; ++j) c[j] += a * b[j];
      }
    }
  }
}

}  // namespace sc::cpu
