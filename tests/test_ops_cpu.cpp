// Every op's CPU reference against PyTorch (float64 reference rounded to float32) on the odd-shape table.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/pool2d.h"
#include "kernels/pool2d_window.h"
#include "op_runner.h"
#include "test_util.h"

namespace sc::test {
namespace {

class OpFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(OpFixture, CpuMatchesPyTorch) {
  const std::string op = GetParam();
  const auto cases = load_fixture(op);
  for (const auto& c : cases) {
    SCOPED_TRACE(op + "/" + c.name);
    const Tensor y = run_fixture_case(op, c, Device::cpu());
    EXPECT_TRUE(allclose(y, c.at("out"), fixture_tolerance(op)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpFixture, ::testing::ValuesIn(op_fixture_names()),
                         [](const auto& info) { return info.param; });

// The fixtures themselves must not be trivial: a test on zeros proves nothing. Every float input is mostly
// nonzero and takes more than one value.
TEST(OpFixtures, InputsAreNotTrivial) {
  for (const auto& op : op_fixture_names())
    for (const auto& c : load_fixture(op))
      for (const auto& [name, t] : c.tensors) {
        if (name == "out" || t.dtype() != DType::F32 || t.numel() < 2) continue;
        const std::vector<float> v = t.to_float_vector();
        size_t nonzero = 0, distinct_from_first = 0;
        for (float f : v) {
          nonzero += f != 0.0f;
          distinct_from_first += f != v[0];
        }
        EXPECT_GT(nonzero, v.size() / 2) << op << "/" << c.name << "." << name;
        EXPECT_GT(distinct_from_first, 0u) << op << "/" << c.name << "." << name;
      }
}

// Max pooling and its gradient against the scalar window scan that defines them (max_pool_pick): each
// window's first largest value in row order, a NaN replacing it, a window of −∞ alone picking its first
// element; the gradient summed into the picks output by output. Inputs with NaN, −∞ and ties, odd sides,
// strides and paddings; bit for bit.
TEST(MaxPool2d, ForwardAndGradientFollowTheWindowScan) {
  const int64_t H = 11, W = 13;
  for (const Pool2dParams& p : {Pool2dParams{3, 2, 2, 3, 1, 1}, Pool2dParams::square(2, 2),
                                Pool2dParams{4, 3, 1, 2, 2, 1}, Pool2dParams::square(3, 1, 1)}) {
    Tensor x = randn({2, 3, H, W}, 5);
    float* v = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (i % 17 == 3) v[i] = std::nanf("");
      if (i % 11 == 5 || (i / W) % 5 == 4) v[i] = -std::numeric_limits<float>::infinity();  // whole rows too
      if (i % 7 == 2) v[i] = 0.5f;                                                          // ties
    }
    const Tensor y = ops::max_pool2d(x, p), dy = randn(y.shape(), 6);
    const Tensor dx = ops::max_pool2d_backward(dy, x, p);
    const int64_t Ho = y.size(2), Wo = y.size(3);
    std::vector<float> want(static_cast<size_t>(x.numel()), 0.0f);
    int64_t nan_outputs = 0;
    for (int64_t plane = 0; plane < 6; ++plane)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t pick =
              plane * H * W + max_pool_pick(v + plane * H * W, H, W,
                                            static_cast<int>(oh * p.stride_h - p.pad_h),
                                            static_cast<int>(ow * p.stride_w - p.pad_w),
                                            static_cast<int>(p.kernel_h), static_cast<int>(p.kernel_w));
          const int64_t out = (plane * Ho + oh) * Wo + ow;
          nan_outputs += std::isnan(v[pick]);
          EXPECT_EQ(std::memcmp(&y.data<float>()[out], &v[pick], sizeof(float)), 0) << out;
          want[static_cast<size_t>(pick)] += dy.data<float>()[out];
        }
    EXPECT_GT(nan_outputs, 0);
    EXPECT_EQ(std::memcmp(dx.data<float>(), want.data(), want.size() * sizeof(float)), 0);
  }
}

}  // namespace
}  // namespace sc::test
