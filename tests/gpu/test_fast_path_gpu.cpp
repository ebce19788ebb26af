// The fast path on CUDA against its CPU reference (itself checked in double and against the generic forward):
// every fused op on shapes that exercise the tensor-core tiles (partial tiles in M, N and K, prologue,
// residual with stride and channel offset) and the fallback, the noisy first layer (bit-identical noise), the
// pooling ops, whole plans of every architecture, and smoothing counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <vector>

#include "engine/fast_classifier.h"
#include "engine/fast_denoiser.h"
#include "kernels/attention_nhwc.h"
#include "kernels/elementwise.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/max_pool2d_nhwc.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pooled_linear.h"
#include "kernels/upsample_nearest2x_nhwc.h"
#include "nn/runtime.h"
#include "smoothing/smooth.h"
#include "test_util.h"

namespace sc::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason()

const Device kGpu = Device::cuda(0);

Tensor opt_to(const Tensor& t, Device d) {
  return t.defined() ? t.to(d) : Tensor();
}

struct GpuConvCase {
  int64_t N, H, W, C, O, K, stride, pad;
  bool prologue, relu;
  int64_t res_stride, res_offset, res_channels;
};

void PrintTo(const GpuConvCase& c, std::ostream* os) {
  *os << c.N << "x" << c.H << "x" << c.W << "x" << c.C << "->" << c.O << " k" << c.K << " s" << c.stride;
}

class GpuFusedConv : public ::testing::TestWithParam<GpuConvCase> {};

TEST_P(GpuFusedConv, CudaMatchesCpuInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  const GpuConvCase k = GetParam();
  const int64_t Ho = conv_out_size(k.H, k.K, k.stride, k.pad, 1),
                Wo = conv_out_size(k.W, k.K, k.stride, k.pad, 1);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    for (bool tf32 : {false, true}) {
      if (tf32 && dtype != DType::F32) continue;
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (tf32 ? " tf32" : ""));
      const Tensor x = randn({k.N, k.H, k.W, k.C}, 1, 0.7f).astype(dtype);
      const Tensor w = randn({k.O, k.K, k.K, k.C}, 2, 0.2f).astype(dtype);
      const Tensor bias = randn({k.O}, 3, 0.2f);
      Tensor scale, shift, res;
      if (k.prologue) scale = randn({k.C}, 4, 0.5f), shift = randn({k.C}, 5, 0.3f);
      if (k.res_channels > 0)
        res = randn({k.N, (Ho - 1) * k.res_stride + 1, (Wo - 1) * k.res_stride + 1, k.res_channels}, 6)
                  .astype(dtype);
      FusedConvParams p;
      p.stride_h = p.stride_w = k.stride;
      p.pad_h = p.pad_w = k.pad;
      p.relu = k.relu;
      p.prologue_relu = k.prologue;
      p.residual_stride = k.res_stride;
      p.residual_channel_offset = k.res_offset;
      p.tf32 = tf32;
      const Tensor cpu = ops::fused_conv(x, w, bias, scale, shift, res, p);
      const Tensor gpu = ops::fused_conv(x.to(kGpu), w.to(kGpu), bias.to(kGpu), opt_to(scale, kGpu),
                                         opt_to(shift, kGpu), opt_to(res, kGpu), p);
      const double rtol = dtype == DType::BF16 ? 1e-2 : dtype == DType::F16 ? 2e-3 : 1e-5;
      EXPECT_TRUE(allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), rtol));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GpuFusedConv,
    ::testing::Values(
        GpuConvCase{3, 9, 11, 5, 7, 3, 2, 1, true, true, 1, 0, 0},       // fallback (odd C)
        GpuConvCase{5, 13, 7, 16, 16, 3, 1, 1, false, true, 1, 0, 16},   // 16-wide tile, partial M
        GpuConvCase{4, 10, 9, 16, 32, 3, 2, 1, false, false, 2, 8, 16},  // option-A residual
        GpuConvCase{2, 8, 8, 8, 24, 3, 1, 1, true, true, 1, 0, 0},       // K = 72: partial k tile
        GpuConvCase{3, 7, 5, 64, 136, 1, 1, 0, false, true, 1, 0, 136},  // 64-wide tiles, partial N
        GpuConvCase{3, 7, 9, 32, 256, 3, 1, 1, true, true, 1, 0, 256},   // 128-wide tiles, partial M
        GpuConvCase{2, 15, 15, 32, 64, 3, 2, 1, true, false, 1, 0, 0}));

TEST(GpuNoisyInputConv, CudaMatchesCpuWithIdenticalNoise) {
  SKIP_WITHOUT_GPU();
  struct Geometry {
    int64_t C, H, W, O, K, stride, pad;
  };
  // CIFAR stem, an ImageNet-like 7×7/2 stem (strips with halos), a LeNet stem and a whole-image kernel (an
  // MLP).
  for (const Geometry& g : {Geometry{3, 32, 32, 16, 3, 1, 1}, Geometry{3, 64, 72, 64, 7, 2, 3},
                            Geometry{1, 28, 28, 6, 5, 1, 0}, Geometry{1, 12, 12, 40, 12, 1, 0}}) {
    SCOPED_TRACE("C" + std::to_string(g.C) + " H" + std::to_string(g.H) + " K" + std::to_string(g.K));
    NoisyInput in;
    in.images = random_images({3, g.C, g.H, g.W}, 7);
    if (g.C == 3) {
      in.mean = Tensor::from_vector<float>({0.4f, 0.5f, 0.6f}, {3});
      in.std = Tensor::from_vector<float>({0.2f, 0.25f, 0.3f}, {3});
    }
    in.sigma = 0.5f, in.seed = 99, in.phase = 1;
    in.spans = {{2, 2, 70, 1000}};
    for (int i = 0; i < 70; ++i)
      in.spans.push_back({1, i % 3, static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
    const Tensor w = randn({g.O, g.K, g.K, g.C}, 8, 0.2f), bias = randn({g.O}, 9, 0.1f);
    FusedConvParams p;
    p.stride_h = p.stride_w = g.stride, p.pad_h = p.pad_w = g.pad, p.relu = true;
    const int64_t Ho = conv_out_size(g.H, g.K, g.stride, g.pad, 1),
                  Wo = conv_out_size(g.W, g.K, g.stride, g.pad, 1);
    for (DType dtype : {DType::F32, DType::BF16}) {
      Tensor cpu = Tensor::empty({72, Ho, Wo, g.O}, dtype),
             gpu = Tensor::empty({72, Ho, Wo, g.O}, dtype, kGpu);
      ops::noisy_input_conv(in, w, bias, p, cpu);
      NoisyInput on_gpu = in;
      on_gpu.images = in.images.to(kGpu), on_gpu.mean = opt_to(in.mean, kGpu),
      on_gpu.std = opt_to(in.std, kGpu);
      ops::noisy_input_conv(on_gpu, w.to(kGpu), bias.to(kGpu), p, gpu);
      EXPECT_TRUE(
          allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), dtype == DType::BF16 ? 1e-2 : 1e-5));
    }
  }
}

TEST(GpuFastOps, PoolingAndHeadMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    const Tensor x = randn({3, 13, 11, 24}, 3).astype(dtype);
    const Pool2dParams pp = Pool2dParams::square(3, 2, 1);
    Tensor cpu = Tensor::empty(ops::max_pool2d_nhwc_shape(x, pp), dtype);
    Tensor gpu = Tensor::empty(cpu.shape(), dtype, kGpu);
    ops::max_pool2d_nhwc(x, pp, cpu);
    ops::max_pool2d_nhwc(x.to(kGpu), pp, gpu);
    EXPECT_TRUE(allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), 0.0));
    const Tensor w = randn({10, 24}, 4), b = randn({10}, 5), s = randn({24}, 6), t = randn({24}, 7);
    Tensor lc = Tensor::empty({3, 10}), lg = Tensor::empty({3, 10}, DType::F32, kGpu);
    ops::pooled_linear(x, w, b, s, t, true, lc);
    ops::pooled_linear(x.to(kGpu), w.to(kGpu), b.to(kGpu), s.to(kGpu), t.to(kGpu), true, lg);
    EXPECT_TRUE(allclose(lg.cpu(), lc, 1e-5));
  }
}

// The fused head's votes on CUDA: the argmax of the GPU's own logits, counted per run, over more runs than
// one launch takes (64) and for 10 and 1000 classes (logits in shared memory), with an exact tie between two
// classes.
TEST(GpuFastOps, HeadVotesCountTheArgmaxOfTheLogits) {
  SKIP_WITHOUT_GPU();
  for (int64_t K : {10, 1000}) {
    const int64_t C = K == 10 ? 64 : 2048, S = 5;
    std::vector<RowRun> runs;
    int64_t N = 0;
    for (int64_t r = 0; r < 150; ++r) {
      runs.push_back({1 + (r * 7) % 5, (r * 3) % S});
      N += runs.back().rows;
    }
    const Tensor x = randn({N, 2, 3, C}, 21).astype(DType::BF16);
    Tensor w = randn({K, C}, 22), b = randn({K}, 23);
    for (int64_t c = 0; c < C; ++c) w.data<float>()[7 * C + c] = w.data<float>()[3 * C + c] = 5.0f;
    b.data<float>()[7] = b.data<float>()[3] = 4.0f;
    const Tensor xg = x.to(kGpu), wg = w.to(kGpu), bg = b.to(kGpu);
    Tensor logits = Tensor::empty({N, K}, DType::F32, kGpu);
    ops::pooled_linear(xg, wg, bg, Tensor(), Tensor(), false, logits);
    const Tensor host = logits.cpu();
    std::vector<int64_t> expected(static_cast<size_t>(S * K), 0);
    int64_t row = 0, ties = 0;
    for (const RowRun& r : runs)
      for (int64_t i = 0; i < r.rows; ++i, ++row) {
        const float* l = host.data<float>() + row * K;
        const int64_t best = std::max_element(l, l + K) - l;  // the first maximum; no NaN here
        ties += best == 3;
        ++expected[static_cast<size_t>(r.slot * K + best)];
      }
    Tensor counts = Tensor::zeros({S, K}, DType::I64, kGpu);
    ops::pooled_linear_vote(xg, wg, bg, Tensor(), Tensor(), false, runs, counts);
    const Tensor got = counts.cpu();
    for (int64_t i = 0; i < S * K; ++i)
      EXPECT_EQ(got.data<int64_t>()[i], expected[static_cast<size_t>(i)]) << i;
    EXPECT_GT(ties, 0);
  }
}

// The fast denoiser's NHWC ops: CUDA against the CPU reference in every storage type, on the UNet's shapes
// (256 channels at 16×16, heads of 64; 2048 channels, the CUDA limit) and odd ones (63 positions, heads of
// 16).
TEST(GpuFastOps, DenoiserOpsMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const double tol = dtype == DType::F32 ? 1e-5 : 1e-2;
    // One chunk of 64 positions or several (the last partial), groups of 3, 8, 12 (the UNet's 384-channel
    // concat: a 16-byte vector spans two groups) and 64 channels, 30 channels (no vector loads), mean 3.
    for (const auto& [N, H, W, C, G] : std::vector<std::array<int64_t, 5>>{
             {3, 5, 7, 96, 32}, {2, 16, 16, 256, 32}, {2, 4, 4, 2048, 32}, {2, 9, 13, 384, 32}, {3, 5, 7, 30, 3}}) {
      const Tensor x = ops::affine(randn({N, H, W, C}, 41, 2.0f), 1.0f, 3.0f).astype(dtype);
      const Tensor g = randn({C}, 42), b = randn({C}, 43);
      Tensor yc = Tensor::empty(x.shape(), dtype), yg = Tensor::empty(x.shape(), dtype, kGpu);
      ops::group_norm_nhwc(x, G, g, b, 1e-5, true, yc);
      ops::group_norm_nhwc(x.to(kGpu), G, g.to(kGpu), b.to(kGpu), 1e-5, true, yg);
      EXPECT_TRUE(allclose(yg.cpu().astype(DType::F32), yc.astype(DType::F32), tol)) << C << " channels";
    }
    const Tensor u = randn({2, 5, 3, 24}, 44).astype(dtype);
    Tensor uc = Tensor::empty({2, 10, 6, 24}, dtype), ug = Tensor::empty({2, 10, 6, 24}, dtype, kGpu);
    ops::upsample_nearest2x_nhwc(u, uc);
    ops::upsample_nearest2x_nhwc(u.to(kGpu), ug);
    EXPECT_TRUE(allclose(ug.cpu().astype(DType::F32), uc.astype(DType::F32), 0.0));
    // Partial key tiles (63, 150, 130 and 4 positions) and, with spread 2, peaked softmaxes whose running max moves
    // from tile to tile.
    for (const auto& [T, heads, d, spread] : std::vector<std::tuple<int64_t, int64_t, int64_t, float>>{
             {63, 3, 16, 0.5f}, {256, 4, 64, 0.5f}, {150, 2, 32, 0.5f}, {130, 1, 64, 2.0f}, {4, 2, 32, 1.0f}}) {
      const Tensor qkv = randn({2, T, 3 * heads * d}, 45, spread).astype(dtype);
      Tensor oc = Tensor::empty({2, T, heads * d}, dtype), og = Tensor::empty({2, T, heads * d}, dtype, kGpu);
      ops::attention_nhwc(qkv, heads, oc);
      ops::attention_nhwc(qkv.to(kGpu), heads, og);
      EXPECT_TRUE(allclose(og.cpu().astype(DType::F32), oc.astype(DType::F32), tol))
          << T << " positions, d " << d;
    }
  }
}

// The fast denoiser on CUDA against the generic one-shot denoiser on the CPU (narrow UNets: scale-shift and
// plain embeddings, attention heads of 32 and 16 channels), with the CPU test's tolerances.
TEST(GpuFastDenoiser, MatchesTheCpuDenoiserInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  for (const char* name : {"iddpm_narrow", "iddpm_narrow_plain"}) {
    SCOPED_TRACE(name);
    DiffusionModel m = narrow_diffusion_model(name);
    const Tensor x = random_images({5, 3, 32, 32}, 8, 0.25f);
    const Tensor expected = denoise_one_shot(m, x, 0.25);
    m.unet->to(kGpu);
    const std::pair<Precision, double> cases[] = {
        {Precision::FP32, 1e-4}, {Precision::TF32, 1e-2}, {Precision::BF16, 6e-2}, {Precision::FP16, 1e-2}};
    for (const auto& [precision, tol] : cases) {
      SCOPED_TRACE(precision_name(precision));
      FastDenoiser fast(m, 0.25, precision);
      const std::vector<float> got = fast.denoise(x.to(kGpu)).cpu().to_float_vector(),
                               want = expected.to_float_vector();
      double diff = 0;
      for (size_t i = 0; i < got.size(); ++i)
        diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
      EXPECT_LE(diff, tol);
    }
  }
}

struct GpuArch {
  const char* arch;
  int64_t channels, size;
};
void PrintTo(const GpuArch& a, std::ostream* os) {
  *os << a.arch;
}

class GpuPlan : public ::testing::TestWithParam<GpuArch> {};

// Whole plans: CUDA against the CPU fast path in each precision (the CPU bf16/fp16 path stores the same
// types, so the logits differ only by summation order and the roundings it moves).
TEST_P(GpuPlan, CudaMatchesCpuInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  const GpuArch a = GetParam();
  auto model = random_classifier(a.arch, a.channels, a.size, 10, 5);
  const Tensor images = random_images({6, a.channels, a.size, a.size}, 3);
  for (Precision precision : {Precision::FP32, Precision::TF32, Precision::BF16, Precision::FP16}) {
    SCOPED_TRACE(precision_name(precision));
    model->to(Device::cpu());
    const Tensor cpu = FastClassifier(*model, precision).logits(images).clone();
    model->to(kGpu);
    const Tensor gpu = FastClassifier(*model, precision).logits(images).cpu();
    const double rtol = precision == Precision::FP32 ? 1e-4 : precision == Precision::BF16 ? 5e-2 : 1e-2;
    EXPECT_TRUE(allclose(gpu, cpu, rtol));
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, GpuPlan,
                         ::testing::Values(GpuArch{"lenet", 1, 28}, GpuArch{"cifar_resnet20", 3, 32},
                                           GpuArch{"aka_resnet20", 3, 32}, GpuArch{"resnet50", 3, 64},
                                           GpuArch{"wrn40_2", 3, 32}),
                         [](const auto& info) { return std::string(info.param.arch); });

TEST(GpuPlan, SmoothingCountsMatchCpu) {
  SKIP_WITHOUT_GPU();
  auto model = random_classifier("lenet", 3, 32, 10, 3);
  std::vector<Tensor> xs{random_images({3, 32, 32}, 40), random_images({3, 32, 32}, 41)};
  FastClassifier cpu_fast(*model, Precision::FP32);
  const auto expected = Smooth(cpu_fast, 1.0, 500, 11).sample_counts(xs, {4, 9}, noise::kEstimation, 2000);
  model->to(kGpu);
  FastClassifier gpu_fast(*model, Precision::FP32);
  const auto got = Smooth(gpu_fast, 1.0, 500, 11).sample_counts(xs, {4, 9}, noise::kEstimation, 2000);
  int64_t differ = 0;
  for (size_t i = 0; i < 2; ++i)
    for (size_t k = 0; k < got[i].size(); ++k) differ += std::abs(got[i][k] - expected[i][k]);
  EXPECT_LE(differ, 4);  // summation order may flip a sample on a decision boundary
}

}  // namespace
}  // namespace sc::test
