// The fast path (engine/): its NHWC ops against double-precision references on odd shapes, in every storage
// type; plans of every architecture against the generic (NCHW, PyTorch-checked) forward; smoothing through
// it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "engine/fast_classifier.h"
#include "kernel_cases.h"
#include "kernels/attention_nhwc.h"
#include "kernels/channel_normalize.h"
#include "kernels/concat.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/gaussian_noise.h"
#include "kernels/group_norm.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pool2d_nhwc.h"
#include "kernels/pooled_linear.h"
#include "kernels/qkv_attention.h"
#include "kernels/relu.h"
#include "kernels/residual_stage.h"
#include "kernels/silu.h"
#include "kernels/tf32_round.h"
#include "kernels/token_attention.h"
#include "kernels/upsample_nearest2x.h"
#include "kernels/upsample_nearest2x_nhwc.h"
#include "smoothing/smooth.h"
#include "test_util.h"

namespace sc {
namespace {

using test::allclose;
using test::fused_conv_tolerance;
using test::identical;
using test::randn;
using test::random_images;

// Values as the storage type sees them (x rounded to dtype), in double.
std::vector<double> as_doubles(const Tensor& t) {
  const std::vector<float> f = t.to_float_vector();
  return {f.begin(), f.end()};
}

Tensor from_doubles(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape);
}

struct ConvCase {
  int64_t N, H, W, C, O, KH, KW, stride, pad;
  bool prologue, prologue_relu, relu;
  int64_t residual_stride, residual_offset, residual_channels;  // residual_channels 0: none
  // GELU on the output instead of the ReLU
  bool gelu = false;
};

// y in double from the same (rounded) operands; tf32 rounds the operands as the op does.
std::vector<double> reference_conv(const ConvCase& k, const Tensor& x, const Tensor& w, const Tensor& bias,
                                   const Tensor& scale, const Tensor& shift, const Tensor& res, bool tf32,
                                   int64_t Ho, int64_t Wo) {
  const auto xd = as_doubles(x), wd = as_doubles(w), bd = as_doubles(bias);
  const auto sd = k.prologue ? as_doubles(scale) : std::vector<double>{};
  const auto hd = k.prologue ? as_doubles(shift) : std::vector<double>{};
  const auto rd = res.defined() ? as_doubles(res) : std::vector<double>{};
  const auto r32 = [tf32](double v) {
    return tf32 ? static_cast<double>(round_tf32(static_cast<float>(v))) : v;
  };
  const int64_t Hr = res.defined() ? res.size(1) : 0, Wr = res.defined() ? res.size(2) : 0;
  std::vector<double> y(static_cast<size_t>(k.N * Ho * Wo * k.O));
  for (int64_t n = 0; n < k.N; ++n)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow)
        for (int64_t o = 0; o < k.O; ++o) {
          double acc = bd[static_cast<size_t>(o)];
          for (int64_t r = 0; r < k.KH; ++r)
            for (int64_t s = 0; s < k.KW; ++s) {
              const int64_t ih = oh * k.stride - k.pad + r, iw = ow * k.stride - k.pad + s;
              if (ih < 0 || ih >= k.H || iw < 0 || iw >= k.W) continue;
              for (int64_t c = 0; c < k.C; ++c) {
                double v = xd[static_cast<size_t>(((n * k.H + ih) * k.W + iw) * k.C + c)];
                // The prologue runs in float in the op; emulate that rounding.
                if (k.prologue)
                  v = static_cast<float>(static_cast<float>(sd[static_cast<size_t>(c)]) *
                                             static_cast<float>(v) +
                                         static_cast<float>(hd[static_cast<size_t>(c)]));
                if (k.prologue_relu) v = std::max(v, 0.0);
                acc += r32(wd[static_cast<size_t>(((o * k.KH + r) * k.KW + s) * k.C + c)]) * r32(v);
              }
            }
          if (res.defined() && o >= k.residual_offset && o < k.residual_offset + k.residual_channels)
            acc += rd[static_cast<size_t>(((n * Hr + oh * k.residual_stride) * Wr + ow * k.residual_stride) *
                                              k.residual_channels +
                                          o - k.residual_offset)];
          if (k.relu) acc = std::max(acc, 0.0);
          if (k.gelu) acc = 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0)));
          y[static_cast<size_t>(((n * Ho + oh) * Wo + ow) * k.O + o)] = acc;
        }
  return y;
}

class FusedConvTest : public ::testing::TestWithParam<std::tuple<int, DType, bool>> {};

const ConvCase kConvCases[] = {
    // odd everything: 3×2 kernel, stride 2, padding 1, prologue with ReLU, option-A-like residual
    {3, 9, 11, 5, 7, 3, 2, 2, 1, true, true, true, 1, 0, 0},
    {2, 7, 5, 6, 10, 3, 3, 1, 1, false, false, true, 1, 0, 10},  // identity residual + ReLU
    {2, 8, 6, 4, 8, 1, 1, 2, 0, false, false, false, 2, 2,
     4},  // option-A shortcut: stride 2, 2 zero channels
    {1, 5, 5, 16, 24, 3, 3, 1, 1, true, false, false, 1, 0, 0},  // channel counts of the tensor-core path
    {2, 6, 6, 32, 16, 3, 3, 2, 1, false, false, true, 1, 0, 0},
    {3, 3, 1, 8, 16, 3, 3, 2, 1, true, true, true, 1, 0, 0},  // one column, stride 2: taps wholly in padding
    // a transformer MLP's first layer: 1×1 on a row of 13 tokens, GELU on the output; and GELU after a
    // residual
    {2, 1, 13, 16, 40, 1, 1, 1, 0, false, false, false, 1, 0, 0, true},
    {2, 5, 4, 8, 8, 3, 3, 1, 1, true, false, false, 1, 0, 8, true},
    // one output pixel per sample: a linear layer of a flattened 4×4 map; a 3×3 kernel over the padding
    // around a single pixel, with prologue and residual
    {4, 4, 4, 16, 24, 4, 4, 1, 0, false, false, true, 1, 0, 0},
    {5, 1, 1, 8, 16, 3, 3, 1, 1, true, true, true, 1, 0, 16},
};

TEST_P(FusedConvTest, MatchesDoubleReference) {
  const auto [index, dtype, tf32] = GetParam();
  if (tf32 && dtype != DType::F32) GTEST_SKIP();
  const ConvCase& k = kConvCases[index];
  const Tensor x = randn({k.N, k.H, k.W, k.C}, 10 + index).astype(dtype);
  const Tensor w = randn({k.O, k.KH, k.KW, k.C}, 20 + index, 0.4f).astype(dtype);
  const Tensor bias = randn({k.O}, 30 + index, 0.3f);
  Tensor scale, shift, res;
  if (k.prologue) scale = randn({k.C}, 40 + index, 0.5f), shift = randn({k.C}, 50 + index, 0.5f);
  FusedConvParams p;
  p.stride_h = p.stride_w = k.stride;
  p.pad_h = p.pad_w = k.pad;
  p.relu = k.relu;
  p.gelu = k.gelu;
  p.prologue_relu = k.prologue_relu;
  p.residual_stride = k.residual_stride;
  p.residual_channel_offset = k.residual_offset;
  p.tf32 = tf32;
  const int64_t Ho = conv_out_size(k.H, k.KH, k.stride, k.pad, 1),
                Wo = conv_out_size(k.W, k.KW, k.stride, k.pad, 1);
  if (k.residual_channels > 0)
    res =
        randn({k.N, (Ho - 1) * k.residual_stride + 1, (Wo - 1) * k.residual_stride + 1, k.residual_channels},
              60 + index)
            .astype(dtype);
  const Tensor y = ops::fused_conv(x, w, bias, scale, shift, res, p);
  const auto expected = reference_conv(k, x, w, bias, scale, shift, res, tf32, Ho, Wo);
  // Output rounding: bfloat16 keeps 8 bits, float16 11, float32 24 (plus float32 accumulation).
  const double rtol = dtype == DType::BF16 ? 8e-3 : dtype == DType::F16 ? 1e-3 : 1e-5;
  EXPECT_TRUE(allclose(y.astype(DType::F32), from_doubles(expected, y.shape()), rtol));
  if (k.relu) {
    int negative = 0;
    for (float v : y.to_float_vector()) negative += v < 0;
    EXPECT_EQ(negative, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedConvTest,
                         ::testing::Combine(::testing::Range(0, static_cast<int>(std::size(kConvCases))),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16),
                                            ::testing::Bool()));

TEST(FusedConv, Tf32RoundingIsTiesAwayOnTenMantissaBits) {
  EXPECT_EQ(round_tf32(1.0f + 0x1p-11f), 1.0f + 0x1p-10f);  // a tie rounds away from zero
  EXPECT_EQ(round_tf32(1.0f + 0x1p-12f), 1.0f);
  EXPECT_EQ(round_tf32(-1.0f - 0x1p-11f), -1.0f - 0x1p-10f);
  EXPECT_TRUE(std::isinf(round_tf32(INFINITY)));
  EXPECT_TRUE(std::isnan(round_tf32(NAN)));
}

TEST(FusedConv, RejectsBadArguments) {
  const Tensor x = randn({1, 5, 5, 3}, 1), w = randn({4, 3, 3, 3}, 2);
  EXPECT_ERROR_MENTIONS(
      ops::fused_conv(x, randn({4, 3, 3, 2}, 3), Tensor(), Tensor(), Tensor(), Tensor(), {}),
      "expects 2 input channels");
  EXPECT_ERROR_MENTIONS(ops::fused_conv(x, w.astype(DType::BF16), Tensor(), Tensor(), Tensor(), Tensor(), {}),
                        "share a dtype");
  EXPECT_ERROR_MENTIONS(ops::fused_conv(x, w, randn({5}, 4), Tensor(), Tensor(), Tensor(), {}),
                        "bias must be [4]");
  EXPECT_ERROR_MENTIONS(ops::fused_conv(x, w, Tensor(), randn({3}, 4), Tensor(), Tensor(), {}), "both scale");
  FusedConvParams p;
  p.residual_channel_offset = 2;
  EXPECT_ERROR_MENTIONS(ops::fused_conv(x, w, Tensor(), Tensor(), Tensor(), randn({1, 3, 3, 4}, 5), p),
                        "do not fit 4 output channels");
  EXPECT_ERROR_MENTIONS(
      ops::fused_conv(x, randn({4, 7, 7, 3}, 3), Tensor(), Tensor(), Tensor(), Tensor(), {}),
      "smaller than the kernel");
  p = {};
  p.tf32 = true;
  EXPECT_ERROR_MENTIONS(
      ops::fused_conv(x.astype(DType::F16), w.astype(DType::F16), Tensor(), Tensor(), Tensor(), Tensor(), p),
      "tf32");
  p = {};
  p.relu = p.gelu = true;
  EXPECT_ERROR_MENTIONS(ops::fused_conv(x, w, Tensor(), Tensor(), Tensor(), Tensor(), p), "ReLU or GELU");
}

// residual_stage = its blocks written with the NCHW ops (conv2d, add, relu) in float32, on an odd map; in
// place as well.
TEST(ResidualStage, MatchesBasicBlocksOfNchwOps) {
  const int64_t N = 2, H = 5, W = 7, C = 8, L = 4;
  const Tensor x = randn({N, H, W, C}, 1), w = randn({L, C, 3, 3, C}, 2, 0.12f),
               bias = randn({L, C}, 3, 0.1f);
  Tensor cur = x.permute({0, 3, 1, 2}).contiguous();
  const auto conv = [&](const Tensor& in, int64_t l) {
    const Tensor wl = w.slice(0, l, l + 1).reshape({C, 3, 3, C}).permute({0, 3, 1, 2}).contiguous();
    return ops::conv2d(in, wl, bias.slice(0, l, l + 1).reshape({C}), Conv2dParams::square(1, 1));
  };
  for (int64_t l = 0; l < L; l += 2) cur = ops::relu(ops::add(conv(ops::relu(conv(cur, l)), l + 1), cur));
  const Tensor expected = cur.permute({0, 2, 3, 1}).contiguous();
  Tensor y = Tensor::full(x.shape(), NAN);
  ops::residual_stage(x, w, bias, y);
  EXPECT_TRUE(allclose(y, expected, 1e-5));
  Tensor in_place = x.clone();
  ops::residual_stage(in_place, w, bias, in_place);
  EXPECT_TRUE(identical(in_place, y));
  EXPECT_FALSE(ops::residual_stage_fused(Device::cpu(), DType::BF16, 32, 32, 16));
}

TEST(ResidualStage, RejectsBadArguments) {
  const Tensor x = randn({2, 4, 4, 8}, 1), w = randn({2, 8, 3, 3, 8}, 2), b = randn({2, 8}, 3);
  Tensor y = Tensor::empty(x.shape());
  EXPECT_ERROR_MENTIONS(ops::residual_stage(x, randn({3, 8, 3, 3, 8}, 2), randn({3, 8}, 3), y), "L even");
  EXPECT_ERROR_MENTIONS(ops::residual_stage(x, randn({2, 8, 3, 3, 4}, 2), b, y),
                        "weight must be [L, 8, 3, 3, 8]");
  EXPECT_ERROR_MENTIONS(ops::residual_stage(x, w.astype(DType::BF16), b, y), "share a dtype");
  EXPECT_ERROR_MENTIONS(ops::residual_stage(x, w, randn({2, 4}, 3), y), "bias must be [2, 8]");
  Tensor small = Tensor::empty({2, 4, 3, 8});
  EXPECT_ERROR_MENTIONS(ops::residual_stage(x, w, b, small), "y must be");
  Tensor big = Tensor::empty({3, 4, 4, 8});
  Tensor shifted = big.slice(0, 1, 3);
  Tensor overlapping = big.slice(0, 0, 2);
  EXPECT_ERROR_MENTIONS(ops::residual_stage(shifted, w, b, overlapping), "overlaps x");
  EXPECT_ERROR_MENTIONS(ops::residual_stage(Tensor(), w, b, y), "x");
}

// noisy_input_conv = conv2d(channel_normalize(add_gaussian_noise(image))) in NHWC.
TEST(NoisyInputConv, MatchesNoiseNormalizeConvolve) {
  const int64_t C = 3, H = 9, W = 7, O = 5;
  const Tensor images = randn({2, C, H, W}, 7, 0.3f);
  const Tensor mean = Tensor::from_vector<float>({0.4f, 0.5f, 0.6f}, {C});
  const Tensor stdv = Tensor::from_vector<float>({0.2f, 0.25f, 0.3f}, {C});
  const Tensor w_nchw = randn({O, C, 3, 3}, 8, 0.3f), bias = randn({O}, 9, 0.1f);
  NoisyInput in;
  in.images = images, in.mean = mean, in.std = stdv;
  in.sigma = 0.5f, in.seed = 1234, in.phase = noise::kEstimation;
  in.spans = {{3, 1, 42, 17},
              {2, 0, 7, 0}};  // rows 0–2: image slot 1 (id 42) samples 17–19; rows 3–4: slot 0
  FusedConvParams p;
  p.stride_h = 2, p.stride_w = 1, p.pad_h = p.pad_w = 1, p.relu = true;
  const Tensor w = w_nchw.permute({0, 2, 3, 1}).contiguous();
  for (DType dtype : {DType::F32, DType::BF16}) {
    Tensor y = Tensor::empty({5, 5, 7, O}, dtype);
    ops::noisy_input_conv(in, w, bias, p, y);
    std::vector<Tensor> parts;
    for (const SampleSpan& s : in.spans)
      parts.push_back(ops::add_gaussian_noise(images.slice(0, s.slot, s.slot + 1).reshape({C, H, W}), s.rows,
                                              in.sigma, NoiseKey{in.seed, s.image_id, in.phase},
                                              s.first_sample));
    Tensor noisy = ops::concat(parts, 0);
    Tensor ref = ops::conv2d(ops::channel_normalize(noisy, mean, stdv), w_nchw, bias,
                             Conv2dParams{2, 1, 1, 1, 1, 1, 1});
    std::vector<float> r = ref.to_float_vector();
    for (float& v : r) v = std::max(v, 0.0f);
    const Tensor expected = Tensor::from_vector(r, ref.shape()).permute({0, 2, 3, 1}).contiguous();
    EXPECT_TRUE(allclose(y.astype(DType::F32), expected, dtype == DType::BF16 ? 8e-3 : 1e-5));
  }
  // Without noise (σ = 0) it is a plain convolution of the normalized batch.
  Tensor y = Tensor::empty({2, 5, 7, O});
  ops::noisy_input_conv(plain_batch(images, mean, stdv), w, bias, p, y);
  std::vector<float> r =
      ops::conv2d(ops::channel_normalize(images, mean, stdv), w_nchw, bias, Conv2dParams{2, 1, 1, 1, 1, 1, 1})
          .to_float_vector();
  for (float& v : r) v = std::max(v, 0.0f);
  EXPECT_TRUE(allclose(y, Tensor::from_vector(r, {2, O, 5, 7}).permute({0, 2, 3, 1}).contiguous(), 1e-5));
}

// round_operands: the normalized input and the weights rounded to y's 16-bit type, then float32 products.
// Without noise or normalization that is the plain kernel on pre-rounded images and weights, bit for bit;
// with them the results move by about the rounding and no more.
TEST(NoisyInputConv, RoundOperandsRoundsInputAndWeightsToTheOutputType) {
  const Tensor images = random_images({2, 3, 9, 7}, 3), w = randn({16, 3, 3, 3}, 4, 0.3f),
               bias = randn({16}, 5);
  FusedConvParams p;
  p.pad_h = p.pad_w = 1;
  FusedConvParams rounded = p;
  rounded.round_operands = true;
  for (DType dtype : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor got = Tensor::empty({2, 9, 7, 16}, dtype), expected = Tensor::empty({2, 9, 7, 16}, dtype);
    ops::noisy_input_conv(plain_batch(images, Tensor(), Tensor()), w, bias, rounded, got);
    ops::noisy_input_conv(plain_batch(images.astype(dtype).astype(DType::F32), Tensor(), Tensor()),
                          w.astype(dtype).astype(DType::F32), bias, p, expected);
    EXPECT_TRUE(identical(got, expected));
    NoisyInput in = plain_batch(images, Tensor::from_vector<float>({0.4f, 0.5f, 0.6f}, {3}),
                                Tensor::from_vector<float>({0.2f, 0.25f, 0.3f}, {3}));
    in.sigma = 0.5f, in.seed = 3;
    ops::noisy_input_conv(in, w, bias, rounded, got);
    ops::noisy_input_conv(in, w, bias, p, expected);
    EXPECT_FALSE(identical(got, expected));
    EXPECT_TRUE(allclose(got.astype(DType::F32), expected.astype(DType::F32), fused_conv_tolerance(dtype)));
  }
  Tensor y = Tensor::empty({2, 9, 7, 16});
  EXPECT_ERROR_MENTIONS(ops::noisy_input_conv(plain_batch(images, Tensor(), Tensor()), w, bias, rounded, y),
                        "round_operands", "float32");
}

TEST(NoisyInputConv, RejectsBadSpans) {
  NoisyInput in = plain_batch(randn({2, 3, 5, 5}, 1), Tensor(), Tensor());
  in.spans.push_back({1, 2, 0, 0});
  Tensor y = Tensor::empty({3, 3, 3, 4});
  EXPECT_ERROR_MENTIONS(ops::noisy_input_conv(in, randn({4, 3, 3, 3}, 2), Tensor(), {}, y), "slot 2");
  in.spans.back() = {2, 0, 0, 0xFFFFFFFFu};
  EXPECT_ERROR_MENTIONS(ops::noisy_input_conv(in, randn({4, 3, 3, 3}, 2), Tensor(), {}, y), "2^32");
  in.spans.pop_back();
  in.sigma = NAN;
  Tensor y2 = Tensor::empty({2, 3, 3, 4});
  EXPECT_ERROR_MENTIONS(ops::noisy_input_conv(in, randn({4, 3, 3, 3}, 2), Tensor(), {}, y2), "sigma");
  in.sigma = 0.5f;
  Tensor table = Tensor::empty({static_cast<int64_t>(sizeof(StagedNoise))}, DType::U8);
  EXPECT_ERROR_MENTIONS(ops::stage_noisy_input(in, table), "stage_noisy_input", "CUDA device");
}

TEST(Pool2dNhwc, MaxMatchesNchwPoolingAndPropagatesNaN) {
  Tensor x = randn({2, 7, 9, 5}, 3);
  x.data<float>()[17] = NAN;
  const Pool2dParams p = Pool2dParams::square(3, 2, 1);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    const Tensor xd = x.astype(dtype);
    Tensor y = Tensor::empty(ops::pool2d_nhwc_shape(xd, p), dtype);
    ops::pool2d_nhwc(PoolKind::Max, xd, p, y);
    const Tensor ref = ops::max_pool2d(xd.astype(DType::F32).permute({0, 3, 1, 2}).contiguous(), p)
                           .permute({0, 2, 3, 1})
                           .contiguous();
    const std::vector<float> a = y.to_float_vector(), e = ref.to_float_vector();
    ASSERT_EQ(a.size(), e.size());
    int nans = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(e[i])) {
        EXPECT_TRUE(std::isnan(a[i])) << i;
        ++nans;
      } else {
        EXPECT_EQ(a[i], e[i]) << i;
      }
    }
    EXPECT_GT(nans, 0);
  }
}

// Average pooling against the NCHW op (count_include_pad: the padded 3×3 windows at the border divide by 9),
// at odd sides, and the UNet's 2×2.
TEST(Pool2dNhwc, AverageMatchesNchwPoolingInEveryPrecision) {
  const Tensor x = randn({2, 7, 9, 33}, 4);
  for (const Pool2dParams& p : {Pool2dParams::square(3, 2, 1), Pool2dParams::square(2, 2)}) {
    for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " kernel " + std::to_string(p.kernel_h));
      const Tensor xd = x.astype(dtype);
      Tensor y = Tensor::full(ops::pool2d_nhwc_shape(xd, p), NAN).astype(dtype);  // poisoned
      ops::pool2d_nhwc(PoolKind::Avg, xd, p, y);
      // The NCHW op pools the same (rounded) inputs in float32; bf16/fp16 results are rounded once more.
      const Tensor expected = ops::avg_pool2d(xd.astype(DType::F32).permute({0, 3, 1, 2}).contiguous(), p)
                                  .permute({0, 2, 3, 1})
                                  .contiguous();
      const double tol = dtype == DType::F32 ? 1e-6 : dtype == DType::BF16 ? 8e-3 : 1e-3;
      EXPECT_TRUE(allclose(y.astype(DType::F32), expected, tol));
    }
  }
  Tensor bad = Tensor::empty({2, 4, 4, 33});  // 7×9 pools to 3×4
  EXPECT_ERROR_MENTIONS(ops::pool2d_nhwc(PoolKind::Avg, x, Pool2dParams::square(2, 2), bad), "pool2d_nhwc",
                        "y must be");
}

TEST(PooledLinear, MatchesDoubleReference) {
  const int64_t N = 3, H = 5, W = 3, C = 7, K = 4;
  const Tensor x = randn({N, H, W, C}, 5), w = randn({K, C}, 6), bias = randn({K}, 7);
  const Tensor scale = randn({C}, 8), shift = randn({C}, 9);
  for (bool prologue : {false, true}) {
    Tensor logits = Tensor::empty({N, K});
    ops::pooled_linear(x, w, bias, prologue ? scale : Tensor(), prologue ? shift : Tensor(), prologue,
                       logits);
    const auto xd = as_doubles(x), wd = as_doubles(w), bd = as_doubles(bias), sd = as_doubles(scale),
               hd = as_doubles(shift);
    std::vector<double> ref(static_cast<size_t>(N * K));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        double acc = 0;
        for (int64_t c = 0; c < C; ++c) {
          double pooled = 0;
          for (int64_t i = 0; i < H * W; ++i) {
            double v = xd[static_cast<size_t>((n * H * W + i) * C + c)];
            if (prologue) v = std::max(sd[static_cast<size_t>(c)] * v + hd[static_cast<size_t>(c)], 0.0);
            pooled += v;
          }
          acc += wd[static_cast<size_t>(k * C + c)] * pooled / (H * W);
        }
        ref[static_cast<size_t>(n * K + k)] = acc + bd[static_cast<size_t>(k)];
      }
    EXPECT_TRUE(allclose(logits, from_doubles(ref, {N, K}), 1e-5));
  }
}

// The fused head's votes: the argmax (lowest index on ties, NaN first) of the same logits counted per run.
TEST(PooledLinear, VotesCountTheArgmaxOfEachRowIntoItsRun) {
  const int64_t N = 11, H = 3, W = 5, C = 9, K = 7;
  Tensor x = randn({N, H, W, C}, 15), w = randn({K, C}, 16), bias = randn({K}, 17);
  const Tensor scale = randn({C}, 18), shift = randn({C}, 19);
  // Classes 2 and 5 tie exactly and win for rows whose pooled features align with them: lower index first.
  for (int64_t c = 0; c < C; ++c) w.data<float>()[5 * C + c] = w.data<float>()[2 * C + c] = 3.0f;
  bias.data<float>()[5] = bias.data<float>()[2];
  x.data<float>()[(4 * H * W) * C] = std::nanf("");  // row 4's logits are all NaN: class 0
  const std::vector<RowRun> runs = {{3, 2}, {5, 0}, {2, 2}, {1, 1}};
  for (bool prologue : {false, true}) {
    const Tensor sc = prologue ? scale : Tensor(), sh = prologue ? shift : Tensor();
    Tensor logits = Tensor::empty({N, K});
    ops::pooled_linear(x, w, bias, sc, sh, prologue, logits);
    Tensor counts = Tensor::empty({3, K}, DType::I64);
    for (int64_t i = 0; i < counts.numel(); ++i) counts.data<int64_t>()[i] = 100 + i;  // accumulates
    std::vector<int64_t> expected(static_cast<size_t>(counts.numel()));
    for (int64_t i = 0; i < counts.numel(); ++i) expected[static_cast<size_t>(i)] = 100 + i;
    int64_t row = 0, ties = 0;
    for (const RowRun& r : runs)
      for (int64_t i = 0; i < r.rows; ++i, ++row) {
        const float* l = logits.data<float>() + row * K;
        int64_t best = std::isnan(l[0]) ? 0 : -1;
        for (int64_t k = 0; k < K && best < 0; ++k) {
          bool top = true;
          for (int64_t j = 0; j < K; ++j) top = top && (l[j] < l[k] || (l[j] == l[k] && j >= k));
          if (top) best = k;
        }
        ties += best == 2;
        ++expected[static_cast<size_t>(r.slot * K + best)];
      }
    ops::pooled_linear_vote(x, w, bias, sc, sh, prologue, runs, counts);
    for (int64_t i = 0; i < counts.numel(); ++i) EXPECT_EQ(counts.data<int64_t>()[i], expected[i]) << i;
    EXPECT_GT(ties, 0);  // the tie is exercised
  }
  Tensor counts = Tensor::zeros({3, K}, DType::I64);
  EXPECT_ERROR_MENTIONS(ops::pooled_linear_vote(x, w, bias, {}, {}, false, {{3, 0}}, counts), "cover 3 rows");
  EXPECT_ERROR_MENTIONS(ops::pooled_linear_vote(x, w, bias, {}, {}, false, {{N, 3}}, counts), "slot 3");
  Tensor wrong = Tensor::zeros({3, K + 1}, DType::I64);
  EXPECT_ERROR_MENTIONS(ops::pooled_linear_vote(x, w, bias, {}, {}, false, {{N, 0}}, wrong),
                        "counts must be");
}

// --- the fast denoiser's NHWC ops, against the generic NCHW ops (themselves checked against PyTorch) ---

Tensor nchw_to_nhwc(const Tensor& x) {
  return x.permute({0, 2, 3, 1}).contiguous();
}
Tensor poisoned(const Shape& shape, DType dtype) {
  return Tensor::full(shape, std::nanf("")).astype(dtype);
}
double dtype_tolerance(DType d) {
  return d == DType::F32 ? 1e-5 : d == DType::F16 ? 4e-3 : 3e-2;
}

TEST(GroupNormNhwc, MatchesGroupNormThenSiLU) {
  // 96 channels in 32 groups of 3, an odd map, values far from zero mean (the variance must not cancel).
  const int64_t N = 3, C = 96, H = 5, W = 7;
  Tensor x = ops::affine(randn({N, C, H, W}, 31), 0.5f, 3.0f);
  const Tensor gamma = randn({C}, 32), beta = randn({C}, 33);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16})
    for (bool silu : {false, true}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (silu ? " silu" : ""));
      const Tensor xr = x.astype(dtype).astype(DType::F32);  // the values the op sees
      Tensor ref = ops::group_norm(xr, 32, gamma, beta, 1e-5);
      if (silu) ref = ops::silu(ref);
      Tensor y = poisoned({N, H, W, C}, dtype);
      ops::group_norm_nhwc(nchw_to_nhwc(xr).astype(dtype), 32, gamma, beta, 1e-5, silu, y);
      EXPECT_TRUE(allclose(y.astype(DType::F32), nchw_to_nhwc(ref), dtype_tolerance(dtype)));
    }
  Tensor y = Tensor::empty({N, H, W, C});
  EXPECT_ERROR_MENTIONS(ops::group_norm_nhwc(nchw_to_nhwc(x), 7, gamma, beta, 1e-5, false, y), "7 groups");
  const Tensor xs = nchw_to_nhwc(x);
  Tensor alias = xs;
  EXPECT_ERROR_MENTIONS(ops::group_norm_nhwc(xs, 32, gamma, beta, 1e-5, false, alias), "alias");
}

TEST(UpsampleNearestNhwc, MatchesNchwUpsampling) {
  const Tensor x = randn({2, 5, 3, 7}, 34);
  for (DType dtype : {DType::F32, DType::BF16}) {
    Tensor y = poisoned({2, 6, 14, 5}, dtype);
    ops::upsample_nearest2x_nhwc(nchw_to_nhwc(x).astype(dtype), y);
    const Tensor ref = nchw_to_nhwc(ops::upsample_nearest2x(x.astype(dtype).astype(DType::F32)));
    EXPECT_TRUE(allclose(y.astype(DType::F32), ref, 0.0));
  }
  Tensor wrong = Tensor::empty({2, 6, 13, 5});
  EXPECT_ERROR_MENTIONS(ops::upsample_nearest2x_nhwc(nchw_to_nhwc(x), wrong), "y must be");
}

TEST(AttentionNhwc, MatchesTheLegacyQkvAttention) {
  // 3 heads of 16 channels over 7×9 = 63 positions (not a multiple of any tile).
  const int64_t N = 2, heads = 3, d = 16, C = heads * d, T = 63;
  const Tensor qkv_nct = randn({N, 3 * C, T}, 35, 0.7f);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor xr = qkv_nct.astype(dtype).astype(DType::F32);
    const Tensor ref = ops::qkv_attention(xr, heads).permute({0, 2, 1}).contiguous();  // [N, T, C]
    Tensor out = poisoned({N, T, C}, dtype);
    ops::attention_nhwc(xr.permute({0, 2, 1}).contiguous().astype(dtype), heads, out);
    EXPECT_TRUE(allclose(out.astype(DType::F32), ref, dtype_tolerance(dtype)));
  }
  Tensor out = Tensor::empty({N, T, C});
  EXPECT_ERROR_MENTIONS(ops::attention_nhwc(qkv_nct.permute({0, 2, 1}).contiguous(), 5, out), "5 heads");
}

// With BEiT's relative position bias, against token_attention (checked against PyTorch in float64 by the
// transformer op fixtures) on the same heads in its layout ([q | k | v] with heads side by side): a 3×5 grid
// (16 positions), 3 heads of 8 channels.
TEST(AttentionNhwc, RelativePositionBiasMatchesTokenAttention) {
  const int64_t N = 2, heads = 3, d = 8, C = heads * d, gh = 3, gw = 5, T = gh * gw + 1;
  const Tensor tokens = randn({N, T, 3 * C}, 36, 0.7f);  // [q | k | v], heads side by side
  const RelativePositionBias bias{randn({relative_position_rows(gh, gw), heads}, 37), gh, gw};
  // The same values per head as [q_h | k_h | v_h]: [N, T, 3, heads, d] → [N, T, heads, 3, d].
  const auto per_head = [&](const Tensor& t) {
    return t.reshape({N, T, 3, heads, d}).permute({0, 1, 3, 2, 4}).contiguous().reshape({N, T, 3 * C});
  };
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor xr = tokens.astype(dtype).astype(DType::F32);
    const Tensor ref = ops::token_attention(xr, heads, bias);
    Tensor out = poisoned({N, T, C}, dtype);
    ops::attention_nhwc(per_head(xr).astype(dtype), heads, out, bias);
    EXPECT_TRUE(allclose(out.astype(DType::F32), ref, dtype == DType::F32 ? 1e-5 : dtype_tolerance(dtype)));
  }
  Tensor out = Tensor::empty({N, T, C});
  EXPECT_ERROR_MENTIONS(ops::attention_nhwc(per_head(tokens), heads, out, {bias.table, gh, gw + 1}),
                        "not a class token and a 3x6 grid");
  EXPECT_ERROR_MENTIONS(ops::attention_nhwc(per_head(tokens), heads, out, {randn({5, heads}, 1), gh, gw}),
                        "relative position table must be");
}

// --- plans ---

struct ArchCase {
  const char* arch;
  int64_t channels, size, classes;
  int expected_convs;  // convolutions in the plan (BatchNorms folded, shortcuts fused)
};

std::unique_ptr<Classifier> random_model(const ArchCase& a, uint64_t seed) {
  return test::random_classifier(a.arch, a.channels, a.size, a.classes, seed);
}

void PrintTo(const ArchCase& a, std::ostream* os) {
  *os << a.arch;
}

class PlanTest : public ::testing::TestWithParam<ArchCase> {};

TEST_P(PlanTest, LogitsMatchTheGenericForward) {
  const ArchCase a = GetParam();
  auto model = random_model(a, 99);
  FastClassifier fast(*model, Precision::FP32);
  int convs = 0;
  for (const PlanStep& s : fast.plan().steps)
    convs += s.kind == PlanStep::Kind::Conv || s.kind == PlanStep::Kind::InputConv;
  EXPECT_EQ(convs, a.expected_convs) << fast.plan().summary();
  // The last linear layer is the head, except when the first convolution already writes the logits.
  EXPECT_EQ(fast.plan().steps.back().kind, convs == 1 ? PlanStep::Kind::InputConv : PlanStep::Kind::Head)
      << fast.plan().summary();
  const Tensor images = test::random_images({3, a.channels, a.size, a.size}, 5, 0.3f);
  const Tensor expected = model->forward(images);
  EXPECT_TRUE(allclose(fast.logits(images).clone(), expected, 1e-4)) << fast.plan().summary();
  // Noisy samples: the same as the materialized noisy batch through the generic forward.
  NoisyInput in;
  in.images = images, in.sigma = 0.25f, in.seed = 7, in.phase = noise::kSelection;
  in.spans = {{2, 2, 11, 5}, {1, 0, 3, 0}};
  const Tensor noisy =
      ops::concat({ops::add_gaussian_noise(images.slice(0, 2, 3).reshape({a.channels, a.size, a.size}), 2,
                                           0.25f, NoiseKey{7, 11, noise::kSelection}, 5),
                   ops::add_gaussian_noise(images.slice(0, 0, 1).reshape({a.channels, a.size, a.size}), 1,
                                           0.25f, NoiseKey{7, 3, noise::kSelection}, 0)},
                  0);
  EXPECT_TRUE(allclose(fast.logits(in).clone(), model->forward(noisy), 1e-4));
}

// Reduced precisions stay close to float32 (bf16 keeps 8 mantissa bits, so logits move by ~1%).
TEST_P(PlanTest, ReducedPrecisionsStayCloseToFp32) {
  const ArchCase a = GetParam();
  auto model = random_model(a, 99);
  const Tensor images = test::random_images({2, a.channels, a.size, a.size}, 6, 0.2f);
  const Tensor ref = FastClassifier(*model, Precision::FP32).logits(images).clone();
  const std::pair<Precision, double> tolerances[] = {
      {Precision::TF32, 1e-2}, {Precision::FP16, 1e-2}, {Precision::BF16, 5e-2}};
  for (const auto& [precision, rtol] : tolerances) {
    const Tensor got = FastClassifier(*model, precision).logits(images).clone();
    EXPECT_TRUE(allclose(got, ref, rtol)) << precision_name(precision);
    if (a.expected_convs > 1) {  // (a single first layer always runs in float32)
      EXPECT_FALSE(allclose(got, ref, 1e-7)) << precision_name(precision) << " is not rounding anything";
    }
  }
}

// The 16-bit stem (set_stem_16bit) changes the first convolution's rounding in bf16/fp16 (the logits move,
// and stay close to float32's) and is refused in float32 and tf32, where nothing is 16-bit.
TEST_P(PlanTest, Stem16BitRoundsOnlyTheFirstConvolutionsOperands) {
  const ArchCase a = GetParam();
  auto model = random_model(a, 99);
  const Tensor images = test::random_images({2, a.channels, a.size, a.size}, 6, 0.2f);
  const Tensor ref = FastClassifier(*model, Precision::FP32).logits(images).clone();
  for (Precision precision : {Precision::FP16, Precision::BF16}) {
    SCOPED_TRACE(precision_name(precision));
    const Tensor plain = FastClassifier(*model, precision).logits(images).clone();
    FastClassifier rounded(*model, precision);
    EXPECT_FALSE(rounded.stem_16bit());  // off by default
    rounded.set_stem_16bit(true);
    EXPECT_TRUE(rounded.stem_16bit());
    const Tensor got = rounded.logits(images).clone();
    EXPECT_EQ(identical(got, plain), a.expected_convs == 1);  // (a single layer makes float32 logits)
    EXPECT_TRUE(allclose(got, ref, precision == Precision::BF16 ? 5e-2 : 1e-2));
  }
  for (Precision precision : {Precision::FP32, Precision::TF32}) {
    FastClassifier c(*model, precision);
    c.set_stem_16bit(true);
    EXPECT_FALSE(c.stem_16bit()) << precision_name(precision);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Archs, PlanTest,
    ::testing::Values(ArchCase{"lenet", 1, 28, 10, 4}, ArchCase{"mlp", 1, 12, 7, 2},
                      ArchCase{"linear", 2, 5, 3, 1}, ArchCase{"cifar_resnet20", 3, 32, 10, 21},
                      ArchCase{"aka_resnet20", 3, 32, 10, 19}, ArchCase{"resnet18", 3, 32, 5, 20},
                      ArchCase{"resnet50", 3, 32, 5, 53}, ArchCase{"wrn40_2", 3, 16, 10, 40}),
    [](const auto& info) { return std::string(info.param.arch); });

TEST(Plan, FoldsBatchNormAndFusesTheResNetBlock) {
  auto model = random_model({"cifar_resnet20", 3, 32, 10, 0}, 1);
  const Plan plan = build_plan(*model);
  const std::string s = plan.summary();
  // conv1+bn1+relu is one step reading the input; a block's second conv carries the residual and the ReLU.
  EXPECT_NE(s.find("0 input_conv w[16, 3, 3, 3] s1 p1 relu"), std::string::npos) << s;
  EXPECT_NE(s.find("2 conv w[16, 3, 3, 16] s1 p1 res=v0 relu"), std::string::npos) << s;
  EXPECT_NE(s.find("head w[10, 64]"), std::string::npos) << s;
}

// The runs of basic blocks a fused stage can take: every block of a CIFAR ResNet stage after its first (which
// changes the width with a projection or option-A shortcut), none in bottleneck or pre-activation networks.
TEST(Plan, FindsTheRunsOfBasicBlocks) {
  const auto runs = [](const char* arch, int64_t size) {
    auto model = random_model({arch, 3, size, 10, 0}, 1);
    const Plan plan = build_plan(*model);
    std::string s;
    for (const ResidualRun& r : find_residual_runs(plan)) {
      s += std::to_string(r.begin) + "-" + std::to_string(r.end) + " ";
      EXPECT_EQ(plan.steps[static_cast<size_t>(r.begin)].in, r.in);
      EXPECT_EQ(plan.steps[static_cast<size_t>(r.end) - 1].out, r.out);
    }
    return s;
  };
  // ResNet-20: the stem, then stage 1's three blocks (steps 1–6); stages 2 and 3 begin with a block of three
  // steps (strided convolution, shortcut, second convolution) followed by two fusable blocks.
  EXPECT_EQ(runs("cifar_resnet20", 32), "1-7 10-14 17-21 ");
  EXPECT_EQ(runs("aka_resnet20", 32), "1-7 9-13 15-19 ");
  EXPECT_EQ(runs("cifar_resnet110", 32), "1-37 40-74 77-111 ");
  // torchvision's ResNet-18: the stem and max pool, then a run in every stage (two blocks in the first, the
  // block after the strided one in the others).
  EXPECT_EQ(runs("resnet18", 32), "2-6 9-11 14-16 19-21 ");
  EXPECT_EQ(runs("resnet50", 32), "");
  EXPECT_EQ(runs("wrn40_2", 16), "");
  EXPECT_EQ(runs("lenet", 28), "");
}

// A module the planner does not know runs on the generic path, and --engine fast says why.
TEST(Plan, UnknownModulesFallBackToTheGenericEngine) {
  ModelSpec spec;
  spec.arch = "custom";
  auto net = std::make_unique<Sequential>();
  net->emplace<Flatten>("flatten").emplace<Linear>("fc", 12, 3);
  net->emplace<AvgPool2d>("odd", Pool2dParams::square(1, 1));
  spec.channels = 3, spec.height = 2, spec.width = 2, spec.num_classes = 3;
  Classifier model(spec, std::move(net));
  std::string note;
  auto base = make_base_classifier(model, "auto", Precision::FP32, note);
  EXPECT_FALSE(base->fuses_noise());
  EXPECT_NE(note.find("AvgPool2d"), std::string::npos) << note;
  EXPECT_ERROR_MENTIONS(make_base_classifier(model, "fast", Precision::FP32, note), "no fast path",
                        "AvgPool2d");
  EXPECT_ERROR_MENTIONS(make_base_classifier(model, "auto", Precision::BF16, note), "bf16");
  EXPECT_ERROR_MENTIONS(make_base_classifier(model, "warp", Precision::FP32, note), "unknown engine");
  EXPECT_ERROR_MENTIONS(parse_precision("fp8"), "unknown precision");
  // --precision auto for this model: fp32 wherever it runs, since it stays on the generic engine; a model the
  // fast engine runs gets fp16 on CUDA (docs/PRECISION.md), fp32 on the CPU.
  EXPECT_FALSE(make_base_classifier(model, "auto", std::nullopt, note)->fuses_noise());
  EXPECT_NE(make_base_classifier(model, "generic", std::nullopt, note), nullptr);
  auto lenet = test::random_classifier("lenet", 1, 28, 10, 1);
  EXPECT_TRUE(make_base_classifier(*lenet, "auto", std::nullopt, note)->fuses_noise());
  EXPECT_EQ(note, "fast engine (fp32)");  // on the CPU
  Plan plan;
  std::string why;
  const bool lowers = try_build_plan(model, plan, why);
  EXPECT_FALSE(lowers);
  EXPECT_EQ(default_precision(Device::cuda(0), lowers), Precision::FP32);
  EXPECT_EQ(default_precision(Device::cuda(0), true), Precision::FP16);
  EXPECT_EQ(default_precision(Device::cpu(), true), Precision::FP32);
}

// FLOP counts (2 per multiply-add) against the published multiply-adds: torchvision's ResNet-50 4.09 G at
// 224×224 (4.11 G with the classifier's 2048×1000 and the 3-channel stem counted exactly), Cohen's ResNet-110
// 0.253 G at 32×32.
TEST(Plan, CountsTheWorkPerSample) {
  auto r50 = random_model({"resnet50", 3, 224, 1000, 0}, 1);
  EXPECT_NEAR(build_plan(*r50).flops_per_sample() / 2 / 4.09e9, 1.0, 0.01);
  auto r110 = random_model({"cifar_resnet110", 3, 32, 10, 0}, 1);
  EXPECT_NEAR(build_plan(*r110).flops_per_sample() / 2 / 0.253e9, 1.0, 0.01);
}

// Certification through the fast path counts the same samples as the generic path.
TEST(Plan, SmoothingCountsMatchTheGenericPath) {
  auto model = random_model({"lenet", 3, 32, 10, 0}, 3);
  FastClassifier fast(*model, Precision::FP32);
  ArgmaxClassifier generic(*model);
  std::vector<Tensor> xs;
  for (int i = 0; i < 2; ++i) xs.push_back(test::random_images({3, 32, 32}, 40 + i, 0.2f));
  Smooth a(fast, 1.0, 96, 11), b(generic, 1.0, 96, 11);
  const auto ca = a.sample_counts(xs, {4, 9}, noise::kEstimation, 150);
  const auto cb = b.sample_counts(xs, {4, 9}, noise::kEstimation, 150);
  int64_t differ = 0;
  for (size_t i = 0; i < 2; ++i)
    for (size_t k = 0; k < ca[i].size(); ++k) differ += std::abs(ca[i][k] - cb[i][k]);
  EXPECT_LE(differ, 2);  // float32 summation order may flip a sample on a decision boundary
  int64_t classes_seen = 0;
  for (int64_t c : ca[0]) classes_seen += c > 0;
  EXPECT_GE(classes_seen, 2);  // the noise matters: not a constant classifier
}

// The fast engine's logits of noisy samples (the noise made inside its first convolution) give the generic
// path's smoothed scores: the mean maximum logit of each image's 150 noisy copies.
TEST(Plan, SmoothedScoresMatchTheGenericPath) {
  auto model = random_model({"lenet", 3, 32, 10, 0}, 3);
  FastClassifier fast(*model, Precision::FP32);
  ArgmaxClassifier generic(*model);
  std::vector<Tensor> xs;
  for (int i = 0; i < 3; ++i) xs.push_back(test::random_images({3, 32, 32}, 50 + i, 0.2f));
  const Smooth::RowScores max_logit = [](const Tensor& logits) {
    std::vector<double> out;
    for (int64_t r = 0; r < logits.size(0); ++r)
      out.push_back(*std::max_element(logits.data<float>() + r * logits.size(1),
                                      logits.data<float>() + (r + 1) * logits.size(1)));
    return out;
  };
  Smooth a(fast, 0.5, 64, 11), b(generic, 0.5, 100, 11), c(generic, 0.5, 100, 12);
  const auto ma = a.mean_scores(xs, {4, 9, 2}, noise::kConfidence, 150, max_logit);
  const auto mb = b.mean_scores(xs, {4, 9, 2}, noise::kConfidence, 150, max_logit);
  const auto mc = c.mean_scores(xs, {4, 9, 2}, noise::kConfidence, 150, max_logit);
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_NEAR(ma[i], mb[i], 1e-5 * std::fabs(mb[i])) << i;
    EXPECT_GT(std::fabs(mb[i] - mc[i]), 1e-4 * std::fabs(mb[i])) << i;  // other noise, other means
  }
}

}  // namespace
}  // namespace sc
