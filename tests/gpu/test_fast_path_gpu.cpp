// The fast path on CUDA against its CPU reference (itself checked in double and against the generic forward):
// every fused op on shapes that exercise the tensor-core tiles (partial tiles in M, N and K, prologue,
// residual with stride and channel offset) and the fallback, the noisy first layer (bit-identical noise), the
// pooling ops, whole plans of every architecture, and smoothing counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "diffusion/denoised_classifier.h"
#include "engine/fast_classifier.h"
#include "engine/fast_denoiser.h"
#include "engine/fast_transformer.h"
#include "kernel_cases.h"
#include "kernels/attention_nhwc.h"
#include "kernels/elementwise.h"
#include "kernels/gelu.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/layer_norm.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/patch_tokens.h"
#include "kernels/pool2d_nhwc.h"
#include "kernels/pooled_linear.h"
#include "kernels/residual_stage.h"
#include "kernels/upsample_nearest2x_nhwc.h"
#include "nn/cuda_graph.h"
#include "nn/memory.h"
#include "nn/models/random_init.h"
#include "nn/runtime.h"
#include "nn/stream.h"
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

class GpuFusedConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(GpuFusedConv, CudaMatchesCpuInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    for (bool tf32 : {false, true}) {
      if (tf32 && dtype != DType::F32) continue;
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (tf32 ? " tf32" : ""));
      const FusedConvInputs in = fused_conv_inputs(GetParam(), dtype, tf32);
      const Tensor cpu = ops::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params);
      const Tensor gpu =
          ops::fused_conv(in.x.to(kGpu), in.w.to(kGpu), in.bias.to(kGpu), opt_to(in.scale, kGpu),
                          opt_to(in.shift, kGpu), opt_to(in.residual, kGpu), in.params);
      EXPECT_TRUE(
          allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), fused_conv_tolerance(dtype)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuFusedConv, ::testing::ValuesIn(fused_conv_cases()));

// Hopper's wgmma kernel, switched on, on every case it takes (64-, 128- and 256-wide tiles, 1×1 and 3×3,
// stride 2, partial row tiles, residuals). Skipped where the device or the build has no wgmma.
TEST(GpuFusedConv, WgmmaKernelMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const WgmmaConvSwitch on(true);
  int taken = 0;
  for (const ConvCase& c : fused_conv_cases())
    for (DType dtype : {DType::BF16, DType::F16}) {
      const FusedConvInputs in = fused_conv_inputs(c, dtype, false);
      Tensor got = Tensor::empty(in.out_shape, dtype, kGpu);
      if (!cuda::fused_conv_uses_wgmma(in.x.to(kGpu), in.w.to(kGpu), in.scale, in.params, got)) continue;
      SCOPED_TRACE(::testing::PrintToString(c) + " " + dtype_name(dtype));
      ++taken;
      const Tensor cpu = ops::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params);
      ops::fused_conv(in.x.to(kGpu), in.w.to(kGpu), in.bias.to(kGpu), Tensor(), Tensor(),
                      opt_to(in.residual, kGpu), in.params, got);
      EXPECT_TRUE(
          allclose(got.cpu().astype(DType::F32), cpu.astype(DType::F32), fused_conv_tolerance(dtype)));
    }
  if (taken == 0) GTEST_SKIP() << "no wgmma here (an sm_90a build on a compute-capability-9.0 device)";
  EXPECT_EQ(taken, 10);
}

// The wgmma kernel as a copy: a 1×1 convolution with identity weights must give back its input exactly (small
// integers, one product per output). Where it does not, the first wrong elements with their pixel and channel
// say which part of the operand layout is off: channels permuted within 8 (the swizzle), within 64 or across
// the k slices (the descriptors' start), pixels permuted (A's rows), or the accumulator fragment.
TEST(GpuFusedConv, WgmmaIdentityConvolutionCopiesItsInput) {
  SKIP_WITHOUT_GPU();
  const WgmmaConvSwitch on(true);
  for (int64_t C : {64, 128, 256}) {
    SCOPED_TRACE(std::to_string(C) + " channels");
    const int64_t pixels = 150;  // two row tiles, the second partial
    std::vector<float> xv(static_cast<size_t>(pixels * C)), wv(static_cast<size_t>(C * C), 0.0f);
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t c = 0; c < C; ++c)
        xv[static_cast<size_t>(p * C + c)] = static_cast<float>((p * 7 + c * 3) % 61 - 30);
    for (int64_t c = 0; c < C; ++c) wv[static_cast<size_t>(c * C + c)] = 1.0f;
    const Tensor x = Tensor::from_vector(xv, {1, 10, 15, C}).astype(DType::BF16).to(kGpu);
    const Tensor w = Tensor::from_vector(wv, {C, 1, 1, C}).astype(DType::BF16).to(kGpu);
    Tensor y = Tensor::empty({1, 10, 15, C}, DType::BF16, kGpu);
    if (!cuda::fused_conv_uses_wgmma(x, w, Tensor(), FusedConvParams{}, y))
      GTEST_SKIP() << "no wgmma here (an sm_90a build on a compute-capability-9.0 device)";
    ops::fused_conv(x, w, Tensor(), Tensor(), Tensor(), Tensor(), FusedConvParams{}, y);
    const std::vector<float> got = y.cpu().astype(DType::F32).to_float_vector();
    int wrong = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] == xv[i]) continue;
      if (++wrong <= 8)
        ADD_FAILURE() << "pixel " << i / C << ", channel " << i % C << ": " << got[i] << " instead of "
                      << xv[i];
    }
    EXPECT_EQ(wrong, 0);
  }
}

// The fp32 tile kernel splits its rows over launches of at most 65,535 row tiles (CUDA's grid y limit, which
// the first convolution of ImageNet DDS passed at --batch auto: 100 samples of 224×224, 78,400 tiles). Here
// one row tile per launch: every launch must start at its own tile and the last one stop at M.
TEST(GpuFusedConv, TileKernelSplitsRowsOverLaunches) {
  SKIP_WITHOUT_GPU();
  const ConvCase odd_channels = fused_conv_cases().front();  // C = 5: the tile kernel, 90 output rows
  ASSERT_NE(odd_channels.C % 4, 0);
  const FusedConvInputs in = fused_conv_inputs(odd_channels, DType::F32, false);
  const Tensor cpu = ops::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params);
  setenv("SMOOTHCUDA_GEMM_TILE_ROW_TILES", "1", 1);
  const Tensor gpu = ops::fused_conv(in.x.to(kGpu), in.w.to(kGpu), in.bias.to(kGpu), opt_to(in.scale, kGpu),
                                     opt_to(in.shift, kGpu), opt_to(in.residual, kGpu), in.params);
  unsetenv("SMOOTHCUDA_GEMM_TILE_ROW_TILES");
  EXPECT_GT(gpu.numel() / gpu.size(3), 64);  // more than one row tile
  EXPECT_TRUE(allclose(gpu.cpu(), cpu, fused_conv_tolerance(DType::F32)));
}

class GpuResidualStage : public ::testing::TestWithParam<StageCase> {};

// The fused stage against its fused_conv steps on the device, bit for bit (the same mma sums in the same
// order), and against the CPU reference; in place as well.
TEST_P(GpuResidualStage, MatchesItsStepsBitForBitAndTheCpu) {
  SKIP_WITHOUT_GPU();
  const auto device_conv = [](const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r,
                              const FusedConvParams& p,
                              Tensor& y) { ops::fused_conv(x, w, b, Tensor(), Tensor(), r, p, y); };
  for (DType dtype : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const StageInputs cpu = residual_stage_inputs(GetParam(), dtype);
    const StageInputs gpu{cpu.x.to(kGpu), cpu.w.to(kGpu), cpu.bias.to(kGpu)};
    ASSERT_TRUE(ops::residual_stage_fused(kGpu, dtype, cpu.x.size(1), cpu.x.size(2), cpu.x.size(3)));
    Tensor got = Tensor::empty(cpu.x.shape(), dtype, kGpu), expected = Tensor::empty(cpu.x.shape(), dtype);
    ops::residual_stage(gpu.x, gpu.w, gpu.bias, got);
    EXPECT_TRUE(identical(got.cpu(), residual_stage_by_steps(gpu, device_conv).cpu()));
    ops::residual_stage(cpu.x, cpu.w, cpu.bias, expected);
    EXPECT_TRUE(
        allclose(got.cpu().astype(DType::F32), expected.astype(DType::F32), fused_conv_tolerance(dtype)));
    Tensor in_place = gpu.x.clone();
    ops::residual_stage(in_place, gpu.w, gpu.bias, in_place);
    EXPECT_TRUE(identical(in_place.cpu(), got.cpu()));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuResidualStage, ::testing::ValuesIn(residual_stage_cases()));

// One case in one output type: the CUDA kernel against the CPU reference.
void expect_noisy_conv_matches_cpu(const NoisyConvCase& c, DType dtype) {
  NoisyInput on_gpu = c.in;
  on_gpu.images = c.in.images.to(kGpu), on_gpu.mean = opt_to(c.in.mean, kGpu),
  on_gpu.std = opt_to(c.in.std, kGpu);
  Tensor cpu = Tensor::empty(c.out_shape, dtype), gpu = Tensor::empty(c.out_shape, dtype, kGpu);
  ops::noisy_input_conv(c.in, c.w, c.bias, c.params, cpu);
  ops::noisy_input_conv(on_gpu, c.w.to(kGpu), c.bias.to(kGpu), c.params, gpu);
  EXPECT_TRUE(allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), fused_conv_tolerance(dtype)))
      << dtype_name(dtype);
}

TEST(GpuNoisyInputConv, CudaMatchesCpuWithIdenticalNoise) {
  SKIP_WITHOUT_GPU();
  for (const NoisyConvCase& c : noisy_input_conv_cases()) {
    SCOPED_TRACE(c.name);
    for (DType dtype : {DType::F32, DType::BF16}) expect_noisy_conv_matches_cpu(c, dtype);
  }
}

// round_operands: the tensor-core kernel (6 of the cases) or the FMA kernel on rounded operands.
TEST(GpuNoisyInputConv, RoundedOperandsMatchCpu) {
  SKIP_WITHOUT_GPU();
  int on_tensor_cores = 0;
  for (NoisyConvCase c : noisy_input_conv_cases()) {
    SCOPED_TRACE(c.name);
    c.params.round_operands = true;
    for (DType dtype : {DType::BF16, DType::F16}) {
      expect_noisy_conv_matches_cpu(c, dtype);
      on_tensor_cores += cuda::noisy_input_conv_uses_mma(c.in, c.w, c.params, Tensor::empty({1}, dtype));
    }
  }
  EXPECT_EQ(on_tensor_cores, 2 * 6);
}

// A batch staged in device memory (what a CUDA graph reads) gives the rows of the same batch carried by the
// launch, bit for bit, for slices that start inside spans (a cache-blocking chunk); restaging another batch
// into the same table changes what the next launch reads.
TEST(GpuNoisyInputConv, StagedBatchGivesTheSameRows) {
  SKIP_WITHOUT_GPU();
  const std::vector<NoisyConvCase> cases = noisy_input_conv_cases();
  for (size_t k : {size_t{0}, size_t{4}}) {
    const NoisyConvCase& c = cases[k];
    SCOPED_TRACE(c.name);
    NoisyInput in = c.in;
    in.images = c.in.images.to(kGpu), in.mean = opt_to(c.in.mean, kGpu), in.std = opt_to(c.in.std, kGpu);
    in.spans.resize(40);  // 41 rows: 2 of the first span, then one per span
    NoisyInput other = in;
    other.seed = 7, other.phase = 0, other.spans[0].first_sample = 5;
    const Tensor w = c.w.to(kGpu), bias = c.bias.to(kGpu);
    Tensor table = Tensor::empty({static_cast<int64_t>(sizeof(StagedNoise))}, DType::U8, kGpu);
    const auto rows_of = [&](const NoisyInput& x, int64_t first, int64_t count) {
      Tensor y = Tensor::empty({count, c.out_shape[1], c.out_shape[2], c.out_shape[3]}, DType::BF16, kGpu);
      ops::noisy_input_conv(slice_rows(x, first, count), w, bias, c.params, y);
      return y.cpu();
    };
    for (const NoisyInput* batch : {&in, &other}) {
      const NoisyInput staged = ops::stage_noisy_input(*batch, table);
      for (const auto& [first, count] : {std::pair<int64_t, int64_t>{0, 41}, {1, 17}, {30, 11}})
        EXPECT_TRUE(identical(rows_of(staged, first, count), rows_of(*batch, first, count)))
            << "rows " << first << "+" << count;
    }
    EXPECT_FALSE(identical(rows_of(in, 0, 41), rows_of(other, 0, 41)));  // the two batches differ
  }
  NoisyInput many = cases[0].in;  // 71 spans
  many.images = many.images.to(kGpu);
  Tensor table = Tensor::empty({static_cast<int64_t>(sizeof(StagedNoise))}, DType::U8, kGpu);
  EXPECT_ERROR_MENTIONS(ops::stage_noisy_input(many, table), "71 spans", "at most 64");
  many.spans.resize(3);
  Tensor small = Tensor::empty({16}, DType::U8, kGpu);
  EXPECT_ERROR_MENTIONS(ops::stage_noisy_input(many, small), "uint8 [");
}

TEST(GpuFastOps, PoolingAndHeadMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    const Tensor x = randn({3, 13, 11, 24}, 3).astype(dtype);
    // Pooling bit for bit: 16-byte channel runs (24 channels) and single channels (5), a few NaNs (max keeps
    // the first of a window), ResNet-50's 3×3/2 max and the resampling blocks' 2×2 average.
    for (int64_t channels : {24, 5}) {
      std::vector<float> v = randn({3, 13, 11, channels}, 8).to_float_vector();
      for (size_t i = 7; i < v.size(); i += 97) v[i] = NAN;
      const Tensor xp = Tensor::from_vector(v, {3, 13, 11, channels}).astype(dtype);
      for (const auto& [kind, pp] : {std::pair{PoolKind::Max, Pool2dParams::square(3, 2, 1)},
                                     std::pair{PoolKind::Avg, Pool2dParams::square(2, 2)}}) {
        SCOPED_TRACE(std::to_string(channels) +
                     (kind == PoolKind::Max ? " channels, max" : " channels, avg"));
        Tensor cpu = Tensor::empty(ops::pool2d_nhwc_shape(xp, pp), dtype);
        Tensor gpu = Tensor::empty(cpu.shape(), dtype, kGpu);
        ops::pool2d_nhwc(kind, xp, pp, cpu);
        ops::pool2d_nhwc(kind, xp.to(kGpu), pp, gpu);
        if (kind == PoolKind::Max) {
          EXPECT_TRUE(identical(gpu.cpu(), cpu));  // one of the inputs, NaN payloads too
          continue;
        }
        // An average of a NaN is a NaN, whose bits arithmetic does not fix; every other value bit for bit.
        const std::vector<float> g = gpu.cpu().astype(DType::F32).to_float_vector(),
                                 c = cpu.astype(DType::F32).to_float_vector();
        int nans = 0;
        for (size_t i = 0; i < g.size(); ++i) {
          nans += std::isnan(c[i]);
          EXPECT_TRUE(std::isnan(g[i]) ? std::isnan(c[i]) : g[i] == c[i])
              << i << ": " << g[i] << " vs " << c[i];
        }
        EXPECT_GT(nans, 0);
      }
    }
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
    const VoteCase c = vote_case(K, K == 10 ? 64 : 2048, 150);
    const Tensor xg = c.x.to(kGpu), wg = c.w.to(kGpu), bg = c.bias.to(kGpu);
    Tensor logits = Tensor::empty({c.x.size(0), K}, DType::F32, kGpu);
    ops::pooled_linear(xg, wg, bg, Tensor(), Tensor(), false, logits);
    int64_t ties = 0;
    const std::vector<int64_t> expected = votes_of_logits(c, logits.cpu(), &ties);
    Tensor counts = Tensor::zeros({c.slots, K}, DType::I64, kGpu);
    ops::pooled_linear_vote(xg, wg, bg, Tensor(), Tensor(), false, c.runs, counts);
    const Tensor got = counts.cpu();
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got.data<int64_t>()[i], expected[i]) << i;
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
    for (const auto& c : group_norm_cases()) {
      const GroupNormInputs in = group_norm_inputs(c, dtype);
      Tensor yc = Tensor::empty(in.x.shape(), dtype), yg = Tensor::empty(in.x.shape(), dtype, kGpu);
      ops::group_norm_nhwc(in.x, in.groups, in.gamma, in.beta, 1e-5, true, yc);
      ops::group_norm_nhwc(in.x.to(kGpu), in.groups, in.gamma.to(kGpu), in.beta.to(kGpu), 1e-5, true, yg);
      EXPECT_TRUE(allclose(yg.cpu().astype(DType::F32), yc.astype(DType::F32), tol)) << c[3] << " channels";
    }
    const Tensor u = randn({2, 5, 3, 24}, 44).astype(dtype);
    Tensor uc = Tensor::empty({2, 10, 6, 24}, dtype), ug = Tensor::empty({2, 10, 6, 24}, dtype, kGpu);
    ops::upsample_nearest2x_nhwc(u, uc);
    ops::upsample_nearest2x_nhwc(u.to(kGpu), ug);
    EXPECT_TRUE(allclose(ug.cpu().astype(DType::F32), uc.astype(DType::F32), 0.0));
    for (const AttentionCase& c : attention_cases()) {
      const Tensor qkv = attention_input(c, dtype);
      const Shape out{2, c.T, c.heads * c.d};
      Tensor oc = Tensor::empty(out, dtype), og = Tensor::empty(out, dtype, kGpu);
      ops::attention_nhwc(qkv, c.heads, oc);
      ops::attention_nhwc(qkv.to(kGpu), c.heads, og);
      EXPECT_TRUE(allclose(og.cpu().astype(DType::F32), oc.astype(DType::F32), tol))
          << c.T << " positions, d " << c.d;
    }
  }
}

// The fast denoiser on CUDA against the generic one-shot denoiser on the CPU (narrow UNets: scale-shift and
// plain embeddings, attention heads of 32 and 16 channels, guided-diffusion's resampling ResBlocks), with the
// CPU test's tolerances.
TEST(GpuFastDenoiser, MatchesTheCpuDenoiserInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  for (const char* name : {"iddpm_narrow", "iddpm_narrow_plain", "adm_narrow"}) {
    SCOPED_TRACE(name);
    DiffusionModel m = narrow_diffusion_model(name);
    const int64_t side = m.unet->config().image_size;
    const Tensor x = random_images({side > 32 ? 1 : 2, 3, side, side}, 8, 0.25f);  // the emulator is slow
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

// Attention heads of a width the CUDA kernel does not have (8 channels): auto falls back to the generic
// denoiser and says why; --engine fast refuses.
TEST(GpuFastDenoiser, FallsBackWhereItDoesNotLower) {
  SKIP_WITHOUT_GPU();
  DiffusionModel m = build_diffusion_model("adm_unet",
                                           {{"image_size", "8"},
                                            {"num_channels", "32"},
                                            {"num_res_blocks", "1"},
                                            {"channel_mult", "1"},
                                            {"num_head_channels", "8"},
                                            {"attention_resolutions", ""}},
                                           "test");
  m.unet->to(kGpu);
  std::string note;
  EXPECT_EQ(make_fast_denoiser(m, 0.25, "auto", Precision::FP32, note), nullptr);
  EXPECT_NE(note.find("attention heads of 8 channels on CUDA"), std::string::npos) << note;
  EXPECT_ERROR_MENTIONS(make_fast_denoiser(m, 0.25, "fast", Precision::FP32, note), "--engine fast",
                        "8 channels");
  EXPECT_GT(denoiser_flops_per_sample(m, 8, 8), 0.0);  // counted all the same
}

// The fast transformer on CUDA (1×1 fused_conv layers on tensor cores, attention_nhwc with heads of 16,
// LayerNorm, GELU and the tokens in 16-bit storage) against the fast and the generic forward on the CPU:
// timm's ViT with layer scales and timm's BEiT (relative position biases on the 4×3 patch grid, mean pooling)
// on 16×12 images (13 tokens), 3 heads, 5 classes. Its ops alone in 16-bit storage, and the fallback for
// heads of widths the CUDA attention kernel does not have.
TEST(GpuFastTransformer, MatchesTheCpuInEveryPrecision) {
  SKIP_WITHOUT_GPU();
  ModelSpec spec;
  spec.height = 16, spec.width = 12, spec.num_classes = 5;
  spec.mean = {0.5f, 0.4f, 0.6f}, spec.std = {0.25f, 0.3f, 0.2f};
  spec.flags = {{"patch", "4"}, {"dim", "48"}, {"depth", "2"},
                {"heads", "3"}, {"mlp", "72"}, {"layer_scale", "1"}};
  const Tensor x = random_images({3, 3, 16, 12}, 6);
  for (const char* arch : {"timm_vit", "beit"}) {
    SCOPED_TRACE(arch);
    spec.arch = arch;
    auto model = build_model(spec);
    randomize_parameters(*model, 5);
    const Tensor generic = model->forward(x);
    const std::pair<Precision, double> cases[] = {
        {Precision::FP32, 1e-5}, {Precision::TF32, 1e-2}, {Precision::BF16, 3e-2}, {Precision::FP16, 1e-2}};
    for (const auto& [precision, tol] : cases) {
      SCOPED_TRACE(precision_name(precision));
      model->to(Device::cpu());
      const Tensor cpu = FastTransformer(*model, precision).logits(x);
      model->to(kGpu);
      const Tensor gpu = FastTransformer(*model, precision).logits(x.to(kGpu)).cpu();
      EXPECT_LT(relative_l2_error(gpu, cpu), precision == Precision::FP32 ? 1e-5 : tol / 2);
      EXPECT_LT(relative_l2_error(gpu, generic), tol);
    }
  }
  spec.arch = "timm_vit";
  for (DType dtype : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor t = randn({4, 7, 37}, 21, 2.0f).astype(dtype);
    const Tensor w = randn({37}, 22), b = randn({37}, 23), pos = randn({8, 37}, 24);
    const auto same = [](const Tensor& gpu, const Tensor& cpu) {
      return allclose(gpu.cpu().astype(DType::F32), cpu.astype(DType::F32), 1e-2);
    };
    EXPECT_TRUE(
        same(ops::layer_norm(t.to(kGpu), w.to(kGpu), b.to(kGpu), 1e-6), ops::layer_norm(t, w, b, 1e-6)));
    EXPECT_TRUE(same(ops::gelu(t.to(kGpu)), ops::gelu(t)));
    EXPECT_TRUE(same(ops::patch_tokens_nhwc(t.to(kGpu), b.to(kGpu), pos.to(kGpu)),
                     ops::patch_tokens_nhwc(t, b, pos)));
  }
  spec.flags["dim"] = "24";  // heads of 8 channels
  auto narrow = build_model(spec);
  narrow->to(kGpu);
  std::string why, note;
  EXPECT_FALSE(fast_transformer_supports(*narrow, why));
  EXPECT_NE(why.find("attention heads of 8 channels on CUDA"), std::string::npos) << why;
  EXPECT_EQ(dynamic_cast<FastTransformer*>(make_base_classifier(*narrow, "auto", std::nullopt, note).get()),
            nullptr);
  EXPECT_ERROR_MENTIONS(make_base_classifier(*narrow, "fast", std::nullopt, note), "8 channels");
  EXPECT_ERROR_MENTIONS(FastTransformer(*narrow, Precision::FP32), "no fast path for this transformer");
}

// The device memory DDS needs, measured on batches of 1 and 2 samples (both parts on the fast engine, bf16),
// predicts the bytes a batch of 6 asks for at its peak.
TEST(GpuFastDenoiser, DenoisedClassifierPredictsItsDeviceMemory) {
  SKIP_WITHOUT_GPU();
  DiffusionModel m = narrow_diffusion_model("iddpm_narrow");
  m.unet->to(kGpu);
  auto clf = random_classifier("lenet", 3, 32, 10, 4);
  clf->to(kGpu);
  DenoisedClassifier dds(m, *clf, 0.25, 0, 0.0, 0, std::make_unique<FastClassifier>(*clf, Precision::BF16),
                         std::make_unique<FastDenoiser>(m, 0.25, Precision::BF16));
  const size_t host_before = live_bytes(Device::cpu()).now;
  const PredictedMemory mem = predicted_and_actual_memory(
      dds, [&] { return dds.memory_need(); }, 6, 0.25f);
  EXPECT_GT(mem.actual, 6 * 32 * 32 * 32 * 2);  // at least one 32-channel bf16 map per sample
  EXPECT_NEAR(static_cast<double>(mem.predicted), static_cast<double>(mem.actual), 0.03 * mem.actual);
  EXPECT_LT(live_bytes(Device::cpu()).now, host_before + 4096);  // the work stayed on the device
  std::string why;
  EXPECT_EQ(dds.auto_batch(1000, why), 1000);  // a narrow UNet: a thousand samples fit easily
  EXPECT_NE(why.find(" per sample"), std::string::npos) << why;
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

// ResNet-50 (its convolutions but the stem on Hopper's wgmma kernel, switched on) against the CPU fast path.
TEST(GpuPlan, WgmmaConvolutionsMatchCpu) {
  SKIP_WITHOUT_GPU();
  const WgmmaConvSwitch on(true);
  auto model = random_classifier("resnet50", 3, 64, 10, 5);
  const Tensor images = random_images({3, 3, 64, 64}, 3);
  for (Precision precision : {Precision::BF16, Precision::FP16}) {
    SCOPED_TRACE(precision_name(precision));
    model->to(Device::cpu());
    const Tensor cpu = FastClassifier(*model, precision).logits(images).clone();
    model->to(kGpu);
    const Tensor gpu = FastClassifier(*model, precision).logits(images).cpu();
    EXPECT_TRUE(allclose(gpu, cpu, precision == Precision::BF16 ? 5e-2 : 1e-2));
  }
}

// The first convolution on 16-bit operands (tensor cores: ResNet-50's 7×7 stride-2 stem, 64 channels, and the
// CIFAR ResNets' 3×3, 16 channels) against the CPU fast path with the same rounding.
TEST(GpuPlan, Stem16BitMatchesCpu) {
  SKIP_WITHOUT_GPU();
  for (const GpuArch a : {GpuArch{"resnet50", 3, 64}, GpuArch{"cifar_resnet20", 3, 32}}) {
    SCOPED_TRACE(a.arch);
    auto model = random_classifier(a.arch, a.channels, a.size, 10, 5);
    const Tensor images = random_images({3, a.channels, a.size, a.size}, 3);
    for (Precision precision : {Precision::BF16, Precision::FP16}) {
      SCOPED_TRACE(precision_name(precision));
      model->to(Device::cpu());
      FastClassifier on_cpu(*model, precision);
      on_cpu.set_stem_16bit(true);
      const Tensor cpu = on_cpu.logits(images).clone();
      model->to(kGpu);
      FastClassifier on_gpu(*model, precision);
      on_gpu.set_stem_16bit(true);
      ASSERT_TRUE(on_gpu.stem_16bit());
      const Tensor gpu = on_gpu.logits(images).cpu();
      EXPECT_TRUE(allclose(gpu, cpu, precision == Precision::BF16 ? 5e-2 : 1e-2));
    }
  }
}

// Cache blocking on the device: chunks down to one row (each value then sits at a row offset of its buffer,
// or at its start) give the same logits bit for bit, the tensor-core and the fp32 tile kernels alike.
TEST(GpuPlan, CacheBlockingKeepsEveryOutputBit) {
  SKIP_WITHOUT_GPU();
  for (const char* arch : {"mlp", "cifar_resnet20"}) {
    SCOPED_TRACE(arch);
    auto model = random_classifier(arch, 3, 32, 10, 6);
    model->to(kGpu);
    const Tensor images = random_images({5, 3, 32, 32}, 8);
    for (Precision precision : {Precision::FP32, Precision::BF16}) {
      SCOPED_TRACE(precision_name(precision));
      FastClassifier whole(*model, precision), single(*model, precision);
      whole.set_cache_budget(CacheBudget{});
      int64_t map = 0;  // the largest activation map's bytes per row: 1.5 of them give chunks of one row
      for (const PlanValue& v : single.plan().values)
        map = std::max(map, v.elems() * (precision == Precision::FP32 ? 4 : 2));
      single.set_cache_budget(CacheBudget{3 * map / 2, 1});
      const Tensor expected = whole.logits(images).cpu();
      EXPECT_TRUE(identical(single.logits(images).cpu(), expected))
          << single.schedule().summary(single.plan());
    }
  }
}

// Residual runs as fused stages: the same logits, bit for bit, as their steps one by one, for Cohen's and
// akamaster's ResNets (projection and option-A shortcuts between the stages), with and without cache blocking
// cutting the stages into chunks; three runs each (a stage's blocks after its first), none in fp32. ResNet-18
// at 32² has four runs, of which only the first (64 channels at 8², after the max pool) has a fused kernel.
TEST(GpuPlan, FusedStagesKeepEveryOutputBit) {
  SKIP_WITHOUT_GPU();
  for (const char* arch : {"cifar_resnet20", "aka_resnet20", "resnet18"}) {
    SCOPED_TRACE(arch);
    const bool resnet18 = std::string(arch) == "resnet18";  // slow to emulate: one precision
    const size_t runs = resnet18 ? 1 : 3;
    auto model = random_classifier(arch, 3, 32, 10, 6);
    model->to(kGpu);
    const Tensor images = random_images({5, 3, 32, 32}, 8);
    for (Precision precision :
         resnet18 ? std::vector{Precision::BF16} : std::vector{Precision::BF16, Precision::FP16}) {
      SCOPED_TRACE(precision_name(precision));
      FastClassifier fused(*model, precision), steps(*model, precision);
      steps.set_fused_stages(false);
      fused.set_fused_stages(true);
      EXPECT_EQ(fused.fused_stages(), runs);
      EXPECT_EQ(steps.fused_stages(), 0u);
      const Tensor expected = steps.logits(images).cpu();
      EXPECT_TRUE(identical(fused.logits(images).cpu(), expected));
      fused.set_cache_budget(CacheBudget{3 * 32 * 32 * 16 * 2, 1});  // chunks of about three rows
      EXPECT_TRUE(identical(fused.logits(images).cpu(), expected)) << fused.schedule().summary(fused.plan());
    }
    FastClassifier fp32(*model, Precision::FP32);
    fp32.set_fused_stages(true);
    EXPECT_EQ(fp32.fused_stages(), 0u);
  }
}

// CUDA graphs: batches of one size after the first replay the graph captured from the second, reading each
// batch's images and noise indices from the staged table. Every batch's logits and votes are those of launch
// by launch, bit for bit, with cache blocking cutting the first stage into chunks.
TEST(GpuPlan, CudaGraphsReplayEveryBatchBitForBit) {
  SKIP_WITHOUT_GPU();
  auto model = random_classifier("cifar_resnet20", 3, 32, 10, 6);
  model->to(kGpu);
  FastClassifier graphed(*model, Precision::BF16), eager(*model, Precision::BF16);
  ASSERT_TRUE(graphed.cuda_graphs());
  eager.set_cuda_graphs(false);
  int64_t map = 0;
  for (const PlanValue& v : graphed.plan().values) map = std::max(map, v.elems() * 2);
  for (FastClassifier* f : {&graphed, &eager}) f->set_cache_budget(CacheBudget{3 * map, 1});
  Tensor counts_graphed = Tensor::zeros({3, 10}, DType::I64, kGpu), counts_eager = counts_graphed.clone();
  for (uint32_t batch = 0; batch < 4; ++batch) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    NoisyInput in;
    in.images = random_images({3, 3, 32, 32}, 50 + batch).to(kGpu);
    in.sigma = 0.5f, in.seed = 11, in.phase = batch % 2;
    in.spans = {{3, batch % 3, 100 + batch, 7 * batch}, {2, 2, 200 + batch, 1000 + batch}};
    const Tensor expected = eager.logits(in).cpu();
    EXPECT_TRUE(identical(graphed.logits(in).cpu(), expected));
    graphed.accumulate_noisy_counts(in, counts_graphed);
    eager.accumulate_noisy_counts(in, counts_eager);
  }
  EXPECT_TRUE(identical(counts_graphed.cpu(), counts_eager.cpu()));
  bool chunked = false;
  for (const Segment& seg : graphed.schedule().segments) chunked |= seg.rows < 5;
  EXPECT_TRUE(chunked) << graphed.schedule().summary(graphed.plan());
  // The first body (batch 0's logits) runs launch by launch, the second (its votes) is captured and
  // launched, every later one is a replay: 7 of 8.
  EXPECT_EQ(graphed.graph_replays(), 7);
  EXPECT_EQ(eager.graph_replays(), 0);
}

// What a capture refuses (allocating, synchronizing) throws and leaves no capture behind; a graph runs
// nothing when captured and reads its buffers afresh at every launch (a copy node, then a kernel node).
TEST(GpuGraph, CaptureRecordsWorkThatRunsAtEachLaunch) {
  SKIP_WITHOUT_GPU();
  EXPECT_ERROR_MENTIONS(CudaGraph::capture(0, [] { Tensor::empty({16}, DType::F32, kGpu); }),
                        "while a CUDA graph is being captured");
  EXPECT_THROW(CudaGraph::capture(0, [] { synchronize(kGpu); }), Error);
  EXPECT_FALSE(capturing_graph());
  const Pool2dParams pp = Pool2dParams::square(3, 2, 1);
  const Tensor a = randn({2, 7, 5, 3}, 1), b = randn({2, 7, 5, 3}, 2);
  Tensor x = a.to(kGpu), staged = Tensor::full(a.shape(), 3.0f, kGpu);
  Tensor y = Tensor::full(ops::pool2d_nhwc_shape(a, pp), 9.0f, kGpu);
  const CudaGraph graph = CudaGraph::capture(0, [&] {
    staged.copy_(x);
    ops::pool2d_nhwc(PoolKind::Max, staged, pp, y);
  });
  EXPECT_TRUE(identical(y.cpu(), Tensor::full(y.shape(), 9.0f)));  // nothing ran yet
  for (const Tensor* input : {&a, &b}) {
    x.copy_(input->to(kGpu));
    graph.launch();
    Tensor expected = Tensor::empty(y.shape());
    ops::pool2d_nhwc(PoolKind::Max, *input, pp, expected);
    EXPECT_TRUE(identical(y.cpu(), expected));
  }
}

// --batch auto on the device: the fewest hundreds of rows (at least 1000) that give the 8×8 stage the fill
// floor's pixels, as the device's free memory allows that easily for ResNet-20.
TEST(GpuPlan, AutoBatchFillsTheLastStage) {
  SKIP_WITHOUT_GPU();
  auto model = random_classifier("cifar_resnet20", 3, 32, 10, 6);
  model->to(kGpu);
  const int64_t want = std::max<int64_t>(1000, (cache_budget(kGpu).fill_pixels + 63) / 64);
  std::string why;
  EXPECT_EQ(FastClassifier(*model, Precision::BF16).auto_batch(1000, why), (want + 99) / 100 * 100);
  EXPECT_EQ(why, "enough to fill the device through the last stage");
  EXPECT_GT(cuda_free_memory_bytes(0), 0);
}

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
