// CUDA kernels run by the SIMT emulator against the CPU reference, on the GPU tests' cases (kernel_cases.h):
//   - residual_stage: the fused stage of basic blocks, bit for bit against its fused_conv steps;
//   - fused_conv: every tensor-core tile shape (128×16, 128×32, 128×64, 128×128) on 16-bit and TF32
//     operands, partial tiles in M, N and K, prologue, residuals, the 3×3 halo kernel (16/32/64 channels,
//     128- and 64-pixel tiles), the fp32/tf32 tile kernel;
//   - the classifier's ends: the noisy first convolution (the same noise bits as the CPU) and the pooled
//     linear head with its votes;
//   - the denoiser's attention (tensor cores and CUDA cores, partial key tiles, moving maxima) and GroupNorm
//     (vector and scalar paths, one and several chunks).
// Outputs start as NaN (test_main.cpp poisons every new buffer), so an element a kernel forgets shows. This
// checks the kernels' logic on a CPU; only a GPU run checks them on the hardware (tests/gpu).
#include <gtest/gtest.h>

#include <vector>

#include "emulated_kernels.h"
#include "kernel_cases.h"
#include "kernels/attention_nhwc.h"
#include "kernels/group_norm_nhwc.h"
#include "simt.h"
#include "test_util.h"

namespace sc::test {
namespace {

Tensor as_f32(const Tensor& t) {
  return t.astype(DType::F32);
}

class EmulatedFusedConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(EmulatedFusedConv, MatchesCpuInEveryPrecision) {
  // One multiprocessor: the halo kernel's persistent grid then runs several tiles per block.
  simt::set_multiprocessor_count(1);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    for (bool tf32 : {false, true}) {
      if (tf32 && dtype != DType::F32) continue;
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (tf32 ? " tf32" : ""));
      const FusedConvInputs in = fused_conv_inputs(GetParam(), dtype, tf32);
      Tensor expected = Tensor::empty(in.out_shape, dtype), got = Tensor::empty(in.out_shape, dtype);
      cpu::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params, expected);
      cuda_emulated::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params, got);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), fused_conv_tolerance(dtype)));
    }
  }
  simt::set_multiprocessor_count(132);
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmulatedFusedConv, ::testing::ValuesIn(fused_conv_cases()));

// Hopper's wgmma kernel (on by set_wgmma_conv; the emulator stands for an H100) on every case it takes: 64-,
// 128- and 256-wide tiles, 1×1 and 3×3, stride 2, partial row tiles, residuals.
TEST(EmulatedFusedConv, WgmmaKernelMatchesCpu) {
  const WgmmaConvSwitch on(true);
  int taken = 0;
  for (const ConvCase& c : fused_conv_cases())
    for (DType dtype : {DType::BF16, DType::F16}) {
      const FusedConvInputs in = fused_conv_inputs(c, dtype, false);
      Tensor expected = Tensor::empty(in.out_shape, dtype), got = Tensor::empty(in.out_shape, dtype);
      if (!cuda_emulated::fused_conv_uses_wgmma(in.x, in.w, in.scale, in.params, got)) continue;
      SCOPED_TRACE(::testing::PrintToString(c) + " " + dtype_name(dtype));
      ++taken;
      cpu::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params, expected);
      cuda_emulated::fused_conv(in.x, in.w, in.bias, in.scale, in.shift, in.residual, in.params, got);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), fused_conv_tolerance(dtype)));
    }
  EXPECT_EQ(taken, 10);  // the five cases above, in both 16-bit types
}

class EmulatedResidualStage : public ::testing::TestWithParam<StageCase> {};

// The fused stage against the chain of its fused_conv steps on the same emulated device, bit for bit (the
// same sums in the same order), and against the CPU reference. One multiprocessor: 4 resident blocks, so
// blocks run several groups of samples and fetch the next group's weights across the groups' boundary. In
// place (y = x) too, as the fast classifier may run it.
TEST_P(EmulatedResidualStage, MatchesItsStepsBitForBitAndTheCpu) {
  simt::set_multiprocessor_count(1);
  const auto emulated_conv = [](const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r,
                                const FusedConvParams& p, Tensor& y) {
    cuda_emulated::fused_conv(x, w, b, Tensor(), Tensor(), r, p, y);
  };
  for (DType dtype : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const StageInputs in = residual_stage_inputs(GetParam(), dtype);
    ASSERT_TRUE(cuda_emulated::residual_stage_fits(dtype, in.x.size(1), in.x.size(2), in.x.size(3)));
    Tensor got = Tensor::empty(in.x.shape(), dtype), expected = Tensor::empty(in.x.shape(), dtype);
    cuda_emulated::residual_stage(in.x, in.w, in.bias, got);
    EXPECT_TRUE(identical(got, residual_stage_by_steps(in, emulated_conv)));
    cpu::residual_stage(in.x, in.w, in.bias, expected);
    EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), fused_conv_tolerance(dtype)));
    Tensor in_place = in.x.clone();
    cuda_emulated::residual_stage(in_place, in.w, in.bias, in_place);
    EXPECT_TRUE(identical(in_place, got));
  }
  simt::set_multiprocessor_count(132);
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmulatedResidualStage, ::testing::ValuesIn(residual_stage_cases()));

TEST(EmulatedClassifierOps, NoisyInputConvMatchesCpuWithIdenticalNoise) {
  for (const NoisyConvCase& c : noisy_input_conv_cases()) {
    SCOPED_TRACE(c.name);
    for (DType dtype : {DType::F32, DType::BF16}) {
      Tensor expected = Tensor::empty(c.out_shape, dtype), got = Tensor::empty(c.out_shape, dtype);
      cpu::noisy_input_conv(c.in, c.w, c.bias, c.params, expected);
      cuda_emulated::noisy_input_conv(c.in, c.w, c.bias, c.params, got);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), fused_conv_tolerance(dtype)));
    }
  }
}

// round_operands: the tensor-core kernel where the shape allows (CIFAR's and ImageNet's stems among them),
// else the FMA kernel on rounded operands, against the CPU's rounding.
TEST(EmulatedClassifierOps, NoisyInputConvWithRoundedOperandsMatchesCpu) {
  int on_tensor_cores = 0;
  for (NoisyConvCase c : noisy_input_conv_cases()) {
    SCOPED_TRACE(c.name);
    c.params.round_operands = true;
    for (DType dtype : {DType::BF16, DType::F16}) {
      Tensor expected = Tensor::empty(c.out_shape, dtype), got = Tensor::empty(c.out_shape, dtype);
      cpu::noisy_input_conv(c.in, c.w, c.bias, c.params, expected);
      cuda_emulated::noisy_input_conv(c.in, c.w, c.bias, c.params, got);
      on_tensor_cores += cuda_emulated::noisy_input_conv_uses_mma(c.in, c.w, c.params, got);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), fused_conv_tolerance(dtype))) << dtype_name(dtype);
    }
  }
  EXPECT_EQ(on_tensor_cores, 2 * 6);
}

// The head's logits against the CPU; its votes against the argmax of the emulated logits, for 10 classes over
// more runs than one launch takes (64) and for 1000 classes (logits in shared memory) over a few. Smaller
// than the GPU test's: every shuffle is a fiber switch here.
TEST(EmulatedClassifierOps, PooledLinearHeadAndVotes) {
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    const Tensor x = randn({3, 13, 11, 24}, 3).astype(dtype);
    const Tensor w = randn({10, 24}, 4), b = randn({10}, 5), s = randn({24}, 6), t = randn({24}, 7);
    Tensor expected = Tensor::empty({3, 10}, DType::F32), got = Tensor::empty({3, 10}, DType::F32);
    cpu::pooled_linear(x, w, b, s, t, true, expected);
    cuda_emulated::pooled_linear(x, w, b, s, t, true, got);
    EXPECT_TRUE(allclose(got, expected, 1e-5)) << dtype_name(dtype);
  }
  for (int64_t K : {10, 1000}) {
    const VoteCase c = K == 10 ? vote_case(K, 64, 70) : vote_case(K, 256, 5);
    Tensor logits = Tensor::empty({c.x.size(0), K}, DType::F32);
    cuda_emulated::pooled_linear(c.x, c.w, c.bias, Tensor(), Tensor(), false, logits);
    int64_t ties = 0;
    const std::vector<int64_t> expected = votes_of_logits(c, logits, &ties);
    Tensor counts = Tensor::zeros({c.slots, K}, DType::I64);
    cuda_emulated::pooled_linear_vote(c.x, c.w, c.bias, Tensor(), Tensor(), false, c.runs, counts);
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(counts.data<int64_t>()[i], expected[i]) << i;
    EXPECT_GT(ties, 0);
  }
}

TEST(EmulatedDenoiserOps, GroupNormMatchesCpu) {
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    for (const auto& c : group_norm_cases()) {
      const GroupNormInputs in = group_norm_inputs(c, dtype);
      for (bool silu : {true, false}) {
        Tensor expected = Tensor::empty(in.x.shape(), dtype), got = Tensor::empty(in.x.shape(), dtype);
        cpu::group_norm_nhwc(in.x, in.groups, in.gamma, in.beta, 1e-5, silu, expected);
        cuda_emulated::group_norm_nhwc(in.x, in.groups, in.gamma, in.beta, 1e-5, silu, got);
        EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), dtype == DType::F32 ? 1e-5 : 1e-2))
            << c[3] << " channels, silu " << silu;
      }
    }
  }
}

TEST(EmulatedDenoiserOps, AttentionMatchesCpu) {
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    for (const AttentionCase& c : attention_cases()) {
      const Tensor qkv = attention_input(c, dtype);
      Tensor expected = Tensor::empty({2, c.T, c.heads * c.d}, dtype),
             got = Tensor::empty({2, c.T, c.heads * c.d}, dtype);
      cpu::attention_nhwc(qkv, c.heads, {}, expected);
      cuda_emulated::attention_nhwc(qkv, c.heads, {}, got);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), dtype == DType::F32 ? 1e-5 : 1e-2))
          << c.T << " positions, d " << c.d;
    }
  }
}

// With BEiT's relative position bias: grids of 4×3 (13 positions), 9×8 (73: two query blocks of the
// tensor-core kernel, two key tiles) and 1×1, heads of 16, 32 and 64; biases of the scores' size.
TEST(EmulatedDenoiserOps, AttentionWithRelativePositionBiasMatchesCpu) {
  const struct { int64_t gh, gw, heads, d; } cases[] = {{4, 3, 2, 16}, {9, 8, 3, 32}, {1, 1, 1, 64}};
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    for (const auto& c : cases) {
      const int64_t T = c.gh * c.gw + 1, C = c.heads * c.d;
      const Tensor qkv = randn({2, T, 3 * C}, 46, 0.5f).astype(dtype);
      const RelativePositionBias bias{randn({relative_position_rows(c.gh, c.gw), c.heads}, 47), c.gh, c.gw};
      Tensor expected = Tensor::empty({2, T, C}, dtype), got = Tensor::empty({2, T, C}, dtype),
             plain = Tensor::empty({2, T, C}, dtype);
      cpu::attention_nhwc(qkv, c.heads, bias, expected);
      cuda_emulated::attention_nhwc(qkv, c.heads, bias, got);
      cpu::attention_nhwc(qkv, c.heads, {}, plain);
      EXPECT_TRUE(allclose(as_f32(got), as_f32(expected), dtype == DType::F32 ? 1e-5 : 1e-2))
          << c.gh << "x" << c.gw << ", d " << c.d;
      if (T > 2) {
        EXPECT_FALSE(allclose(as_f32(plain), as_f32(expected), 1e-2));  // the bias matters
      }
    }
  }
}

}  // namespace
}  // namespace sc::test
