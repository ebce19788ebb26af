// The CPU matrix product under every conv2d, linear and fused convolution of the CPU path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
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

// Every instruction-set variant this CPU runs (sgemm itself runs the first), each on odd sizes around the 6 ×
// 16 register tile and the 256-column strip, on sizes below one tile, on columns past the last full tile, and
// on the 12 × 8 tiles of products with at most 8 columns (full and partial).
TEST(CpuGemm, EachElementIsItsProductsSummedInKOrder) {
  const std::vector<cpu::SgemmVariant> variants = cpu::sgemm_variants();
  ASSERT_FALSE(variants.empty());
  std::printf("[gemm] variants on this CPU:");
  for (const cpu::SgemmVariant& v : variants) std::printf(" %s", v.name);
  std::printf("\n");
  for (const cpu::SgemmVariant& variant : variants)
    for (const GemmCase c :
         {GemmCase{1, 1, 1}, GemmCase{5, 15, 3}, GemmCase{6, 16, 7}, GemmCase{7, 17, 9},
          GemmCase{13, 300, 25}, GemmCase{3, 529, 150}, GemmCase{8, 271, 12}, GemmCase{120, 33, 256},
          GemmCase{29, 6, 25}, GemmCase{25, 8, 11}, GemmCase{13, 3, 150}}) {
      for (bool accumulate : {false, true}) {
        const int64_t lda = c.K + 3, ldb = c.N + 5, ldc = c.N + 2;
        const std::vector<float> A = padded(c.M, c.K, lda, 1), B = padded(c.K, c.N, ldb, 2);
        std::vector<float> C = padded(c.M, c.N, ldc, 3);
        const std::vector<float> C0 = C;
        variant.run(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, C.data(), ldc, accumulate);
        int64_t differ = 0, padding_written = 0;
        double worst = 0;
        for (int64_t i = 0; i < c.M; ++i) {
          for (int64_t j = 0; j < c.N; ++j) {
            // The contract: float sum in k order, each product rounded before it is added.
            float expected = accumulate ? C0[static_cast<size_t>(i * ldc + j)] : 0.0f;
            double exact = expected, magnitude = std::abs(expected);
            for (int64_t k = 0; k < c.K; ++k) {
              const float product = A[static_cast<size_t>(i * lda + k)] * B[static_cast<size_t>(k * ldb + j)];
              expected += product;
              const double p = static_cast<double>(A[static_cast<size_t>(i * lda + k)]) *
                               B[static_cast<size_t>(k * ldb + j)];
              exact += p;
              magnitude += std::abs(p);
            }
            const float got = C[static_cast<size_t>(i * ldc + j)];
            differ += std::memcmp(&got, &expected, sizeof(float)) != 0;
            worst = std::max(worst, std::abs(got - exact) / (1e-30 + magnitude));
          }
          for (int64_t j = c.N; j < ldc; ++j)
            padding_written += !std::isnan(C[static_cast<size_t>(i * ldc + j)]);
        }
        EXPECT_EQ(differ, 0) << variant.name << " " << c.M << "x" << c.N << "x" << c.K << " accumulate "
                             << accumulate;
        EXPECT_EQ(padding_written, 0) << variant.name << " " << c.M << "x" << c.N << "x" << c.K;
        // Recursive summation's bound: K + 1 roundings of at most 2^-24 of the magnitudes.
        EXPECT_LT(worst, static_cast<double>(c.K + 1) * 0x1p-24)
            << variant.name << " against float64, " << c.M << "x" << c.N << "x" << c.K;
      }
    }
}

}  // namespace
}  // namespace sc::test
