// The CPU matrix product under every conv2d, linear and fused convolution of the CPU path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "test_util.h"

namespace sc::test {
namespace {

struct GemmCase {
  int64_t M, N, K;
};

// Row-major storage with padding columns past each row (lda > K …) that hold NaN and must stay NaN.
std::vector<float> padded(int64_t rows, int64_t cols, int64_t ld, uint64_t seed) {
  const Tensor t = randn({rows, cols}, seed);
  std::vector<float> v(static_cast<size_t>(rows * ld), std::numeric_limits<float>::quiet_NaN());
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(v.data() + r * ld, t.data<float>() + r * cols, static_cast<size_t>(cols) * sizeof(float));
  return v;
}

// A's element (i, k) of a product; the layout is sgemm_windows'.
struct WindowedA {
  const float* data;
  int64_t lda, L, window_stride;
  float at(int64_t i, int64_t k) const {
    return data[static_cast<size_t>(i * lda + k / L * window_stride + k % L)];
  }
};

// Runs variant on C (M × N, ldc = N + 2, NaN past each row) and checks each element against the float sum of
// its products in k order, bit for bit, and against float64 within recursive summation's bound; the padding
// columns must stay NaN.
void check_product(const cpu::SgemmVariant& variant, int64_t M, int64_t N, int64_t windows,
                   const WindowedA& A, const std::string& name) {
  const int64_t K = windows * A.L, ldb = N + 5, ldc = N + 2;
  const std::vector<float> B = padded(K, N, ldb, 2);
  for (bool accumulate : {false, true}) {
    std::vector<float> C = padded(M, N, ldc, 3);
    const std::vector<float> C0 = C;
    variant.run(M, N, windows, A.L, A.data, A.lda, A.window_stride, B.data(), ldb, C.data(), ldc, accumulate);
    int64_t differ = 0, padding_written = 0;
    double worst = 0;
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        // The contract: float sum in k order, each product rounded before it is added.
        float expected = accumulate ? C0[static_cast<size_t>(i * ldc + j)] : 0.0f;
        double exact = expected, magnitude = std::abs(expected);
        for (int64_t k = 0; k < K; ++k) {
          const float a = A.at(i, k), b = B[static_cast<size_t>(k * ldb + j)];
          expected += a * b;
          exact += static_cast<double>(a) * b;
          magnitude += std::abs(static_cast<double>(a) * b);
        }
        const float got = C[static_cast<size_t>(i * ldc + j)];
        differ += std::memcmp(&got, &expected, sizeof(float)) != 0;
        worst = std::max(worst, std::abs(got - exact) / (1e-30 + magnitude));
      }
      for (int64_t j = N; j < ldc; ++j) padding_written += !std::isnan(C[static_cast<size_t>(i * ldc + j)]);
    }
    EXPECT_EQ(differ, 0) << variant.name << " " << name << " accumulate " << accumulate;
    EXPECT_EQ(padding_written, 0) << variant.name << " " << name;
    // Recursive summation's bound: K + 1 roundings of at most 2^-24 of the magnitudes.
    EXPECT_LT(worst, static_cast<double>(K + 1) * 0x1p-24) << variant.name << " against float64, " << name;
  }
}

std::vector<cpu::SgemmVariant> printed_variants() {
  const std::vector<cpu::SgemmVariant> variants = cpu::sgemm_variants();
  std::printf("[gemm] variants on this CPU:");
  for (const cpu::SgemmVariant& v : variants) std::printf(" %s", v.name);
  std::printf("\n");
  return variants;
}

// Every instruction-set variant this CPU runs (sgemm itself runs the first), each on odd sizes around the 6 ×
// 16 register tile and the 256-column strip, on sizes below one tile, on columns past the last full tile, and
// on the 12 × 8 tiles of products with at most 8 columns (full and partial).
TEST(CpuGemm, EachElementIsItsProductsSummedInKOrder) {
  const std::vector<cpu::SgemmVariant> variants = printed_variants();
  ASSERT_FALSE(variants.empty());
  for (const cpu::SgemmVariant& variant : variants)
    for (const GemmCase c :
         {GemmCase{1, 1, 1}, GemmCase{5, 15, 3}, GemmCase{6, 16, 7}, GemmCase{7, 17, 9},
          GemmCase{13, 300, 25}, GemmCase{3, 529, 150}, GemmCase{8, 271, 12}, GemmCase{120, 33, 256},
          GemmCase{29, 6, 25}, GemmCase{25, 8, 11}, GemmCase{13, 3, 150}}) {
      const int64_t lda = c.K + 3;
      const std::vector<float> A = padded(c.M, c.K, lda, 1);  // the NaN padding must not be read
      check_product(variant, c.M, c.N, 1, WindowedA{A.data(), lda, c.K, 0},
                    std::to_string(c.M) + "x" + std::to_string(c.N) + "x" + std::to_string(c.K));
    }
}

// A read through windows (sgemm_windows), as a stride-1 convolution reads its input: rows that overlap (lda
// smaller than a window), windows one "image row" apart, few and many columns.
TEST(CpuGemm, WindowedOperandIsReadInPlace) {
  struct WindowCase {
    int64_t M, N, windows, L, lda, window_stride;
  };
  for (const cpu::SgemmVariant& variant : cpu::sgemm_variants())
    for (const WindowCase c : {WindowCase{668, 6, 5, 5, 1, 28},         // LeNet's 5×5 on one channel
                               WindowCase{47, 16, 3, 48, 16, 34 * 16},  // 3×3 on 16 channels
                               WindowCase{13, 40, 2, 9, 3, 50}, WindowCase{7, 3, 4, 2, 5, 11}}) {
      const int64_t size = (c.M - 1) * c.lda + (c.windows - 1) * c.window_stride + c.L;
      const Tensor data = randn({size}, 4);
      check_product(
          variant, c.M, c.N, c.windows, WindowedA{data.data<float>(), c.lda, c.L, c.window_stride},
          "M " + std::to_string(c.M) + " windows " + std::to_string(c.windows) + "x" + std::to_string(c.L));
    }
}

}  // namespace
}  // namespace sc::test
