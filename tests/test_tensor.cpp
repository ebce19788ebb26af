#include <cmath>
#include <limits>

#include "kernels/conv2d.h"
#include "nn/memory.h"
#include "nn/runtime.h"
#include "test_util.h"

namespace sc::test {
namespace {

TEST(Tensor, ShapeStridesAndViews) {
  Tensor t = randn({2, 3, 4}, 1);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_TRUE(t.is_contiguous());
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.data<float>(), t.data<float>());  // a view, no copy
  EXPECT_EQ(t.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_THROW(t.reshape({5, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
}

TEST(Tensor, SliceAndPermuteCopyCorrectElements) {
  Tensor t = randn({3, 5, 7}, 2);
  const float* p = t.data<float>();
  Tensor s = t.slice(1, 1, 4);  // [3, 3, 7] view
  EXPECT_FALSE(s.is_contiguous());
  Tensor c = s.contiguous();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 7; ++k) EXPECT_EQ(c.data<float>()[(i * 3 + j) * 7 + k], p[(i * 5 + j + 1) * 7 + k]);
  Tensor pm = t.permute({2, 0, 1}).contiguous();  // [7, 3, 5]
  for (int64_t k = 0; k < 7; ++k)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(pm.data<float>()[(k * 3 + i) * 5 + j], p[(i * 5 + j) * 7 + k]);
  EXPECT_THROW(t.slice(1, 3, 6), Error);
  EXPECT_THROW(t.permute({0, 0, 1}), Error);
  // A 16-bit permute (rows copied element by element at a stride), a slice of the last dimension of a 4-D
  // tensor (rows copied whole from scattered starts), and an empty slice.
  const Tensor b = randn({2, 3, 4, 5}, 5).astype(DType::BF16);
  const Tensor bp = b.permute({3, 1, 0, 2}).contiguous();  // [5, 3, 2, 4]
  const std::vector<float> bv = b.to_float_vector(), bpv = bp.to_float_vector();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        for (int64_t l = 0; l < 5; ++l)
          EXPECT_EQ(bpv[static_cast<size_t>(((l * 3 + j) * 2 + i) * 4 + k)],
                    bv[static_cast<size_t>(((i * 3 + j) * 4 + k) * 5 + l)]);
  const Tensor q = randn({2, 3, 4, 6}, 6), qs = q.slice(3, 1, 5).contiguous();  // [2, 3, 4, 4]
  for (int64_t r = 0; r < 24; ++r)
    for (int64_t l = 0; l < 4; ++l) EXPECT_EQ(qs.data<float>()[r * 4 + l], q.data<float>()[r * 6 + l + 1]);
  EXPECT_EQ(q.slice(3, 2, 2).contiguous().numel(), 0);
}

TEST(Tensor, CopyIntoStridedView) {
  Tensor dst = Tensor::zeros({4, 6});
  Tensor src = randn({4, 2}, 3);
  Tensor view = dst.slice(1, 2, 4);
  view.copy_(src);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j) {
      const float expect = (j >= 2 && j < 4) ? src.data<float>()[i * 2 + j - 2] : 0.0f;
      EXPECT_EQ(dst.data<float>()[i * 6 + j], expect);
    }
  EXPECT_THROW(view.copy_(randn({4, 3}, 4)), Error);
}

TEST(Tensor, FillEveryDtype) {
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8}) {
    Tensor t = Tensor::empty({3, 5}, d);
    t.fill_(7.0f);
    for (float v : t.to_float_vector()) EXPECT_EQ(v, 7.0f) << dtype_name(d);
  }
}

TEST(Tensor, HalfAndBFloat16RoundToNearestEven) {
  // Values chosen at and around rounding boundaries, subnormals and overflow.
  const std::vector<float> in = {1.0f, -2.5f, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65504.0f, 65520.0f, 1e-7f,
                                 6.0e-8f, 2.98023223876953125e-08f, -0.0f, 0.333333f};  // 2^-25: a tie, to even (0)
  const std::vector<float> half_expect = {1.0f, -2.5f, 1.0f, 1.0f + 2.0f / 1024, 65504.0f,
                                          std::numeric_limits<float>::infinity(), 1.1920928955078125e-07f,
                                          5.9604644775390625e-08f, 0.0f, -0.0f, 0.333251953125f};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(Half::from_float(in[i]).to_float(), half_expect[i]) << in[i];
  EXPECT_TRUE(std::isnan(Half::from_float(std::nanf("")).to_float()));
  EXPECT_EQ(BFloat16::from_float(1.0f + 1.0f / 256).to_float(), 1.0f);               // tie to even
  EXPECT_EQ(BFloat16::from_float(1.0f + 3.0f / 256).to_float(), 1.0f + 4.0f / 256);  // tie to even, up
  EXPECT_EQ(BFloat16::from_float(-3.140625f).to_float(), -3.140625f);
  EXPECT_TRUE(std::isnan(BFloat16::from_float(std::nanf("")).to_float()));
  // astype round trip through every dtype keeps small integers exactly.
  Tensor ints = Tensor::from_vector<float>({0, 1, 2, 100, 255}, {5});
  for (DType d : {DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8})
    EXPECT_EQ(ints.astype(d).astype(DType::F32).to_float_vector(), ints.to_float_vector()) << dtype_name(d);
}

TEST(Tensor, TypedAccessChecksDtype) {
  Tensor t = Tensor::zeros({2}, DType::I64);
  EXPECT_THROW(t.data<float>(), Error);
  EXPECT_NO_THROW(t.data<int64_t>());
  EXPECT_THROW(Tensor().data<float>(), Error);
}

TEST(Tensor, PoisonMarksUnwrittenMemory) {
  ASSERT_TRUE(poison_new_buffers());  // set by the test main
  Tensor t = Tensor::empty({4});
  for (float v : t.to_float_vector()) EXPECT_TRUE(std::isnan(v));
}

TEST(Device, ParseAndErrors) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_THROW(Device::parse("gpu"), Error);
  EXPECT_THROW(Device::parse("cuda:x"), Error);
}

TEST(Device, CudaRequestWithoutGpuFailsClearly) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  try {
    Tensor::empty({2}, DType::F32, Device::cuda(0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sc::test
