#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>

namespace sc::cpu {
namespace {

// One register of each instruction set: SSE's 4 floats, AVX2's 8, AVX-512's 16. Each variant below uses its
// own width: GCC split a vector wider than the target's registers through the stack and general registers,
// which ran the AVX2 product at a fifth to a ninth of its speed. memcpy loads and stores, so no alignment is
// assumed.
typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

// Columns of C per tile: 16, or 8 for products of at most 8 columns. sgemm_tile_columns rounds to these.
constexpr int64_t kWide = 16, kNarrow = 8;

// The left operand: row i, column k = w·L + l at rows[i·lda + w·window_stride + l] (K = windows · L). A plain
// row-major matrix is one window of K columns; a stride-1 convolution's input is KH windows of KW·C floats,
// one image row apart (sgemm_windows).
struct Operand {
  const float* rows;
  int64_t lda, windows, L, window_stride;
  Operand at_row(int64_t i) const { return {rows + i * lda, lda, windows, L, window_stride}; }
};

// C[0..R) × [0..Width) = A[0..R) · B[.., 0..Width) (+ C's old value when accumulate), the tile held in R ×
// (Width / lanes) registers for the whole of K. Without accumulate the sums start from zero registers: C is
// neither read nor zeroed first.
template <typename V, int R, int64_t Width>
__attribute__((always_inline)) inline void tile(const Operand& A, const float* B, int64_t ldb, float* C,
                                                int64_t ldc, bool accumulate) {
  constexpr int64_t kLanes = sizeof(V) / sizeof(float), kVecs = Width / kLanes;
  V acc[R][kVecs];
  for (int r = 0; r < R; ++r)
    for (int64_t v = 0; v < kVecs; ++v) {
      acc[r][v] = V{};
      if (accumulate) std::memcpy(&acc[r][v], C + r * ldc + v * kLanes, sizeof(V));
    }
  for (int64_t w = 0; w < A.windows; ++w) {
    const float* a_rows = A.rows + w * A.window_stride;
    for (int64_t l = 0; l < A.L; ++l, B += ldb) {
      V b[kVecs];
      for (int64_t v = 0; v < kVecs; ++v) std::memcpy(&b[v], B + v * kLanes, sizeof(V));
      for (int r = 0; r < R; ++r) {
        const float a = a_rows[r * A.lda + l];
        for (int64_t v = 0; v < kVecs; ++v) acc[r][v] += a * b[v];
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int64_t v = 0; v < kVecs; ++v) std::memcpy(C + r * ldc + v * kLanes, &acc[r][v], sizeof(V));
}

// tile<rows> for rows ≤ R (the last row block may be short).
template <typename V, int R, int64_t Width>
__attribute__((always_inline)) inline void tile_rows(int64_t rows, const Operand& A, const float* B,
                                                     int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if constexpr (R > 1)
    if (rows < R) return tile_rows<V, R - 1, Width>(rows, A, B, ldb, C, ldc, accumulate);
  tile<V, R, Width>(A, B, ldb, C, ldc, accumulate);
}

// The whole product in tiles of R rows × Width columns. The columns past the last full tile go through the
// same tile on zero-padded copies of B's last columns (and of C's, when accumulating); the padding columns
// are computed and dropped, so every element is summed the same way wherever it lies.
template <typename V, int R, int64_t Width>
__attribute__((always_inline)) inline void tiled_sgemm(int64_t M, int64_t N, const Operand& A, const float* B,
                                                       int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  // A strip of B's columns (K × 256 floats) stays in L2 while every row block of A passes over it.
  constexpr int64_t kStrip = 256;
  const int64_t K = A.windows * A.L, full = N / Width * Width;
  for (int64_t j0 = 0; j0 < full; j0 += kStrip) {
    const int64_t j1 = std::min(full, j0 + kStrip);
    for (int64_t i = 0; i < M; i += R)
      for (int64_t j = j0; j < j1; j += Width)
        tile_rows<V, R, Width>(std::min<int64_t>(R, M - i), A.at_row(i), B + j, ldb, C + i * ldc + j, ldc,
                               accumulate);
  }
  const int64_t rest = N - full;
  if (rest == 0) return;
  std::vector<float> panel(static_cast<size_t>(K * Width), 0.0f);
  for (int64_t k = 0; k < K; ++k)
    std::memcpy(panel.data() + k * Width, B + k * ldb + full, static_cast<size_t>(rest) * sizeof(float));
  float c[R * Width] = {};  // the padding columns: computed from zeros and dropped
  for (int64_t i = 0; i < M; i += R) {
    const int64_t rows = std::min<int64_t>(R, M - i);
    if (accumulate)
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(c + r * Width, C + (i + r) * ldc + full, static_cast<size_t>(rest) * sizeof(float));
    tile_rows<V, R, Width>(rows, A.at_row(i), panel.data(), Width, c, Width, accumulate);
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(C + (i + r) * ldc + full, c + r * Width, static_cast<size_t>(rest) * sizeof(float));
  }
}

// 6 × 16 accumulators: 6 zmm of AVX-512's 32, 12 of AVX2's 16 ymm; SSE's 16 xmm hold 3 × 16. A product
// with at most 8 columns (a convolution with few output channels, the output pixels as rows) runs in 12 × 8
// tiles instead, where 16 columns would compute half or more of padding.
__attribute__((target("avx512f"))) void sgemm_avx512(int64_t M, int64_t N, const Operand& A, const float* B,
                                                     int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (N <= kNarrow) return tiled_sgemm<Vec8, 12, kNarrow>(M, N, A, B, ldb, C, ldc, accumulate);
  tiled_sgemm<Vec16, 6, kWide>(M, N, A, B, ldb, C, ldc, accumulate);
}
__attribute__((target("avx2"))) void sgemm_avx2(int64_t M, int64_t N, const Operand& A, const float* B,
                                                int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (N <= kNarrow) return tiled_sgemm<Vec8, 12, kNarrow>(M, N, A, B, ldb, C, ldc, accumulate);
  tiled_sgemm<Vec8, 6, kWide>(M, N, A, B, ldb, C, ldc, accumulate);
}
void sgemm_sse(int64_t M, int64_t N, const Operand& A, const float* B, int64_t ldb, float* C, int64_t ldc,
               bool accumulate) {
  if (N <= kNarrow) return tiled_sgemm<Vec4, 6, kNarrow>(M, N, A, B, ldb, C, ldc, accumulate);
  tiled_sgemm<Vec4, 3, kWide>(M, N, A, B, ldb, C, ldc, accumulate);
}

// Each variant behind the public signature of sgemm_windows.
template <void (*Run)(int64_t, int64_t, const Operand&, const float*, int64_t, float*, int64_t, bool)>
void windows_entry(int64_t M, int64_t N, int64_t windows, int64_t L, const float* A, int64_t lda,
                   int64_t window_stride, const float* B, int64_t ldb, float* C, int64_t ldc,
                   bool accumulate) {
  Run(M, N, Operand{A, lda, windows, L, window_stride}, B, ldb, C, ldc, accumulate);
}

}  // namespace

std::vector<SgemmVariant> sgemm_variants() {
  return isa_variants<SgemmFunction>(windows_entry<sgemm_avx512>, windows_entry<sgemm_avx2>, "sse",
                                     windows_entry<sgemm_sse>);
}

int64_t sgemm_tile_columns(int64_t N) {
  return N <= kNarrow ? kNarrow : (N + kWide - 1) / kWide * kWide;
}

void sgemm_windows(int64_t M, int64_t N, int64_t windows, int64_t L, const float* A, int64_t lda,
                   int64_t window_stride, const float* B, int64_t ldb, float* C, int64_t ldc,
                   bool accumulate) {
  static const SgemmFunction fastest = sgemm_variants().front().run;
  fastest(M, N, windows, L, A, lda, window_stride, B, ldb, C, ldc, accumulate);
}

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
           float* C, int64_t ldc, bool accumulate) {
  sgemm_windows(M, N, 1, K, A, lda, 0, B, ldb, C, ldc, accumulate);
}

}  // namespace sc::cpu
