// The general CUDA ops (elementwise, layout, pooling, reductions, the diffusion sampler's steps, the
// hand-written GEMM behind conv2d and linear) run by the SIMT emulator against the CPU reference, on odd
// shapes that leave partial blocks and partial warps. Ops that move or select values must match bit for bit
// (NaN included); arithmetic ones within float32 tolerance. Outputs start as NaN (test_main.cpp poisons every
// new buffer), so an element a kernel forgets shows. The fast path's kernels are in
// test_emulated_kernels.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "emulated_kernels.h"
#include "kernels/pool2d.h"
#include "test_util.h"

namespace sc::test {
namespace {

constexpr double kTolerance = 1e-5;  // float32 against float32, different summation orders

struct Outputs {
  Tensor expected, got;
};

// The CPU reference and the emulated kernel, both host wrappers with the output last, into fresh outputs.
template <typename Fn, typename... Args>
Outputs run_both(Fn* cpu_fn, Fn* emulated_fn, const Shape& shape, DType dtype, const Args&... args) {
  Outputs o{Tensor::empty(shape, dtype), Tensor::empty(shape, dtype)};
  cpu_fn(args..., o.expected);
  emulated_fn(args..., o.got);
  return o;
}

// randn with a few NaNs, for the ops that must pass them on.
Tensor randn_with_nans(const Shape& shape, uint64_t seed) {
  Tensor t = randn(shape, seed);
  for (int64_t i = 0; i < t.numel(); i += 97) t.data<float>()[i] = NAN;
  return t;
}

const Shape kOdd = {3, 5, 7, 9};  // 945 elements: four blocks of 256, the last partial

TEST(EmulatedOps, ElementwiseMatchCpu) {
  const Tensor a = randn(kOdd, 1), b = randn(kOdd, 2), nans = randn_with_nans(kOdd, 3);
  auto o = run_both(cpu::relu, cuda_emulated::relu, kOdd, DType::F32, nans);
  EXPECT_TRUE(identical(o.got, o.expected)) << "relu";
  o = run_both(cpu::silu, cuda_emulated::silu, kOdd, DType::F32, a);
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "silu";
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul}) {
    o = run_both(cpu::binary, cuda_emulated::binary, kOdd, DType::F32, op, a, b);
    EXPECT_TRUE(identical(o.got, o.expected)) << "binary " << static_cast<int>(op);
  }
  o = run_both(cpu::affine, cuda_emulated::affine, kOdd, DType::F32, a, 1.7f, -0.3f);
  EXPECT_TRUE(identical(o.got, o.expected)) << "affine";
  o = run_both(cpu::combine, cuda_emulated::combine, kOdd, DType::F32, 1.3f, a, -0.6f, b, -1.0f, 1.0f);
  EXPECT_TRUE(identical(o.got, o.expected)) << "combine";
}

TEST(EmulatedOps, PerChannelAffineOpsMatchCpu) {
  const Tensor x = randn(kOdd, 4), gamma = randn({5}, 5), beta = randn({5}, 6), mean = randn({5}, 7);
  const Tensor positive = random_images({5}, 8, 0.2f);  // in [0, 1]
  Tensor var = Tensor::empty({5}), std = Tensor::empty({5});
  for (int i = 0; i < 5; ++i) {
    var.data<float>()[i] = 0.1f + positive.data<float>()[i];
    std.data<float>()[i] = 0.2f + positive.data<float>()[4 - i];
  }
  auto o =
      run_both(cpu::batch_norm, cuda_emulated::batch_norm, kOdd, DType::F32, x, gamma, beta, mean, var, 1e-5);
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "batch_norm";
  o = run_both(cpu::channel_normalize, cuda_emulated::channel_normalize, kOdd, DType::F32, x, mean, std);
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "channel_normalize";
  const Tensor scale = randn({3, 5}, 10), shift = randn({3, 5}, 11);
  for (bool with_scale : {true, false}) {
    o = run_both(cpu::channel_modulate, cuda_emulated::channel_modulate, kOdd, DType::F32, x,
                 with_scale ? scale : Tensor(), shift);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "channel_modulate, scale " << with_scale;
  }
}

TEST(EmulatedOps, LayoutOpsMoveTheSameBits) {
  const Tensor x = randn_with_nans({2, 3, 7, 9}, 12);
  auto o = run_both(cpu::pad_channels, cuda_emulated::pad_channels, {2, 6, 7, 9}, DType::F32, x, int64_t{2});
  EXPECT_TRUE(identical(o.got, o.expected)) << "pad_channels";
  o = run_both(cpu::subsample2d, cuda_emulated::subsample2d, {2, 3, 3, 4}, DType::F32, x, int64_t{3});
  EXPECT_TRUE(identical(o.got, o.expected)) << "subsample2d";
  o = run_both(cpu::upsample_nearest2x, cuda_emulated::upsample_nearest2x, {2, 3, 14, 18}, DType::F32, x);
  EXPECT_TRUE(identical(o.got, o.expected)) << "upsample_nearest2x";
  // NHWC upsampling moves 1-, 2-, 4- and 8-byte elements, in accesses of 1 to 16 bytes (7, 12 and 8 channels:
  // pixels of 7·size bytes, of 12 or 24 (unit 4 or 8 for u8/bf16), of 8 or 16).
  for (DType dtype : {DType::U8, DType::BF16, DType::F32, DType::I64})
    for (int64_t C : {7, 12, 8}) {
      const Tensor xn = random_images({2, 5, 3, C}, 13).astype(DType::F32);
      Tensor src = Tensor::empty(xn.shape());
      for (int64_t i = 0; i < xn.numel(); ++i)
        src.data<float>()[i] = std::round(200.0f * xn.data<float>()[i]);
      o = run_both(cpu::upsample_nearest2x_nhwc, cuda_emulated::upsample_nearest2x_nhwc, {2, 10, 6, C}, dtype,
                   src.astype(dtype));
      EXPECT_TRUE(identical(o.got, o.expected))
          << "upsample_nearest2x_nhwc " << dtype_name(dtype) << " C " << C;
    }
}

// Parts of 7 and 4 along the dimension move element by element; of 8 and 16, in 16-byte accesses for 16-bit
// types along the channels (the UNet's skip connections).
TEST(EmulatedOps, ConcatAlongEveryDimension) {
  for (auto [size_a, size_b] : {std::pair<int64_t, int64_t>{7, 4}, {8, 16}})
    for (DType dtype : {DType::F32, DType::F16, DType::I64}) {
      for (int64_t dim = 0; dim < 4; ++dim) {
        Shape sa = {2, 3, 5, 7}, sb = sa, sy = sa;
        sa[static_cast<size_t>(dim)] = size_a;
        sb[static_cast<size_t>(dim)] = size_b;
        sy[static_cast<size_t>(dim)] = size_a + size_b;
        const Tensor a = randn(sa, 14).astype(dtype), b = randn(sb, 15).astype(dtype);
        Outputs o{Tensor::empty(sy, dtype), Tensor::empty(sy, dtype)};
        cpu::concat_part(a, dim, 0, o.expected);
        cpu::concat_part(b, dim, a.size(dim), o.expected);
        cuda_emulated::concat_part(a, dim, 0, o.got);
        cuda_emulated::concat_part(b, dim, a.size(dim), o.got);
        EXPECT_TRUE(identical(o.got, o.expected))
            << dtype_name(dtype) << " along " << dim << ", parts " << size_a << " and " << size_b;
      }
    }
}

TEST(EmulatedOps, StridedCopyOfPermutedAndSlicedViews) {
  for (DType dtype : {DType::U8, DType::BF16, DType::F32, DType::I64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor base = random_images({4, 5, 6}, 16).astype(dtype);
    // Strided source into a contiguous destination, into a strided destination, and the contiguous copy.
    const Tensor src = base.permute({2, 0, 1});
    Outputs o{Tensor::empty({6, 4, 5}, dtype), Tensor::empty({6, 4, 5}, dtype)};
    cpu::strided_copy(src, o.expected);
    cuda_emulated::strided_copy(src, o.got);
    EXPECT_TRUE(identical(o.got, o.expected)) << "permuted source";
    const Tensor part = base.slice(1, 1, 4);
    Tensor expected_dst = Tensor::empty({4, 6, 3}, dtype).permute({0, 2, 1}),
           got_dst = Tensor::empty({4, 6, 3}, dtype).permute({0, 2, 1});
    cpu::strided_copy(part, expected_dst);
    cuda_emulated::strided_copy(part, got_dst);
    EXPECT_TRUE(identical(got_dst.contiguous(), expected_dst.contiguous()))
        << "sliced source, permuted destination";
    Tensor got_plain = Tensor::empty(base.shape(), dtype);
    cuda_emulated::strided_copy(base, got_plain);
    EXPECT_TRUE(identical(got_plain, base)) << "contiguous";
  }
}

TEST(EmulatedOps, CastBetweenEveryPairOfDtypes) {
  // Non-negative halves up to 149.5: exact in every float type, in range for uint8; integers truncate.
  Tensor values = Tensor::empty({3, 7, 11});
  for (int64_t i = 0; i < values.numel(); ++i)
    values.data<float>()[i] = 0.5f * static_cast<float>((i * 7) % 300);
  const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8};
  for (DType from : all) {
    const Tensor src = values.astype(from);
    for (DType to : all) {
      auto o = run_both(cpu::cast, cuda_emulated::cast, src.shape(), to, src);
      EXPECT_TRUE(identical(o.got, o.expected)) << dtype_name(from) << " to " << dtype_name(to);
    }
  }
}

TEST(EmulatedOps, FillEveryDtype) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8}) {
    for (float value : {2.75f, 0.1f}) {
      Tensor expected = Tensor::empty({5, 7, 9}, dtype), got = Tensor::empty({5, 7, 9}, dtype);
      cpu::fill(expected, value);
      cuda_emulated::fill(got, value);
      EXPECT_TRUE(identical(got, expected)) << dtype_name(dtype) << " " << value;
    }
  }
}

TEST(EmulatedOps, PoolingMatchesCpu) {
  const Tensor x = randn({2, 3, 11, 13}, 17), nans = randn_with_nans({2, 3, 11, 13}, 18);
  const Pool2dParams p = Pool2dParams::square(3, 2, 1);
  const Shape pooled = ops::avg_pool2d(x, p).shape();
  auto o = run_both(cpu::pool2d, cuda_emulated::pool2d, pooled, DType::F32, PoolKind::Avg, x, p);
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "avg_pool2d";
  o = run_both(cpu::pool2d, cuda_emulated::pool2d, pooled, DType::F32, PoolKind::Max, nans, p);
  EXPECT_TRUE(identical(o.got, o.expected)) << "max_pool2d with NaNs";
  // NHWC: the max with NaNs, and the average in the same float order (so bit for bit), at the 3×3 window with
  // padding and at the UNet's 2×2 (odd sides: the last row and column are left out, as in PyTorch).
  for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
    const Tensor xn = randn_with_nans({2, 9, 11, 5}, 19).astype(dtype),
                 xa = randn({2, 9, 11, 37}, 20).astype(dtype);
    o = run_both(cpu::pool2d_nhwc, cuda_emulated::pool2d_nhwc, ops::pool2d_nhwc_shape(xn, p), dtype,
                 PoolKind::Max, xn, p);
    EXPECT_TRUE(identical(o.got, o.expected)) << "max pool2d_nhwc " << dtype_name(dtype);
    for (const Pool2dParams& q : {p, Pool2dParams::square(2, 2)}) {
      o = run_both(cpu::pool2d_nhwc, cuda_emulated::pool2d_nhwc, ops::pool2d_nhwc_shape(xa, q), dtype,
                   PoolKind::Avg, xa, q);
      EXPECT_TRUE(identical(o.got, o.expected))
          << "avg pool2d_nhwc " << dtype_name(dtype) << " k" << q.kernel_h;
    }
  }
  // Adaptive windows that overlap (5×4 of 11×13), the global mean and an identity-height case.
  for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 4}, {1, 1}, {11, 6}}) {
    o = run_both(cpu::adaptive_avg_pool2d, cuda_emulated::adaptive_avg_pool2d, {2, 3, h, w}, DType::F32, x);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "adaptive_avg_pool2d to " << h << "x" << w;
  }
}

TEST(EmulatedOps, RowReductionsMatchCpu) {
  // Rows narrower than a warp, one partial warp past it, and 1000 classes.
  for (int64_t C : {1, 10, 37, 1000}) {
    SCOPED_TRACE(C);
    const Tensor x = randn({7, C}, 20, 3.0f);
    for (bool log : {false, true}) {
      auto o = run_both(cpu::softmax, cuda_emulated::softmax, x.shape(), DType::F32, x, log);
      EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << (log ? "log_softmax" : "softmax");
    }
    // Logits from a handful of values, so that ties are common; NaNs in some rows.
    Tensor ties = Tensor::empty({9, C});
    for (int64_t i = 0; i < ties.numel(); ++i) ties.data<float>()[i] = static_cast<float>((i * 13) % 5);
    for (int64_t r = 0; r < 9; r += 4) ties.data<float>()[r * C + (r * 7) % C] = NAN;
    auto o = run_both(cpu::argmax, cuda_emulated::argmax, {9}, DType::I64, ties);
    EXPECT_TRUE(identical(o.got, o.expected)) << "argmax";
  }
}

TEST(EmulatedOps, ClassHistogramAccumulatesInSharedAndGlobalMemory) {
  // 10 classes count in shared memory, 5000 in global memory; labels outside [0, K) are ignored.
  for (int64_t K : {10, 5000}) {
    Tensor labels = Tensor::empty({1000}, DType::I64);
    for (int64_t i = 0; i < 1000; ++i) labels.data<int64_t>()[i] = (i * i * 31 + 7) % (K + 3) - 1;
    Tensor expected = Tensor::empty({K}, DType::I64), got = Tensor::empty({K}, DType::I64);
    for (int64_t k = 0; k < K; ++k)
      expected.data<int64_t>()[k] = got.data<int64_t>()[k] = 3 * k;  // accumulate
    cpu::class_histogram_accumulate(labels, expected);
    cuda_emulated::class_histogram_accumulate(labels, got);
    EXPECT_TRUE(identical(got, expected)) << K << " classes";
  }
}

TEST(EmulatedOps, DiffusionOpsMatchCpu) {
  for (int64_t groups : {4, 3}) {
    const Tensor x = randn({2, 12, 7, 9}, 21), gamma = randn({12}, 22), beta = randn({12}, 23);
    auto o = run_both(cpu::group_norm, cuda_emulated::group_norm, x.shape(), DType::F32, x, groups, gamma,
                      beta, 1e-5);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "group_norm, " << groups << " groups";
  }
  const Tensor qkv = randn({2, 3 * 2 * 5, 37}, 24);
  auto o =
      run_both(cpu::qkv_attention, cuda_emulated::qkv_attention, {2, 10, 37}, DType::F32, qkv, int64_t{2});
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "qkv_attention";
  const Tensor t = Tensor::from_vector<float>({0.0f, 1.0f, 17.5f, 999.0f, 3999.0f}, {5});
  for (int64_t dim : {7, 16}) {
    o = run_both(cpu::timestep_embedding, cuda_emulated::timestep_embedding, {5, dim}, DType::F32, t,
                 10000.0);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "timestep_embedding, dim " << dim;
  }
  const Tensor img = randn({2, 3, 11, 13}, 25);
  for (const Shape& out :
       {Shape{2, 3, 11, 20}, Shape{2, 3, 11, 5}, Shape{2, 3, 17, 13}, Shape{2, 3, 4, 13}}) {
    const int axis = out[3] != 13 ? 3 : 2;
    o = run_both(cpu::resize_bicubic_axis, cuda_emulated::resize_bicubic_axis, out, DType::F32, img, axis);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance))
        << "resize_bicubic_axis " << axis << " to " << out[axis];
  }
  const Tensor x_t = randn(kOdd, 26), eps = randn(kOdd, 27), z = randn(kOdd, 28);
  Tensor v = randn(kOdd, 29);
  for (int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] = std::tanh(v.data<float>()[i]);
  const DdpmCoefficients c{1.2f, 0.6f, 0.3f, 0.7f, -5.0f, -3.0f};
  for (int variant = 0; variant < 3; ++variant) {  // learned variance and noise, fixed variance, last step
    o = run_both(cpu::ddpm_step, cuda_emulated::ddpm_step, kOdd, DType::F32, x_t, eps,
                 variant == 0 ? v : Tensor(), variant < 2 ? z : Tensor(), c);
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "ddpm_step variant " << variant;
  }
}

TEST(EmulatedOps, GaussianNoiseHasTheCpuBits) {
  // 105 elements per image: the last group of four is partial.
  const Tensor x = random_images({3, 7, 5}, 30);
  const NoiseKey key{1234, 17, 1};
  auto o = run_both(cpu::add_gaussian_noise, cuda_emulated::add_gaussian_noise, {6, 3, 7, 5}, DType::F32, x,
                    0.5f, key, uint32_t{5});
  EXPECT_TRUE(identical(o.got, o.expected));
}

TEST(EmulatedOps, HandwrittenConvAndLinearMatchCpu) {
  // Grouped, strided, padded and dilated; then a 1×1 convolution without bias.
  const Tensor x = randn({2, 6, 11, 13}, 31), w = randn({8, 3, 3, 3}, 32), bias = randn({8}, 33);
  const Conv2dParams p{2, 1, 1, 2, 2, 1, 2};
  const Shape conv_shape = {2, 8, conv_out_size(11, 3, 2, 1, 2), conv_out_size(13, 3, 1, 2, 1)};
  auto o = run_both(cpu::conv2d, cuda_emulated::conv2d, conv_shape, DType::F32, x, w, bias, p);
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "grouped conv2d";
  const Tensor w1 = randn({5, 6, 1, 1}, 34);
  o = run_both(cpu::conv2d, cuda_emulated::conv2d, {2, 5, 11, 13}, DType::F32, x, w1, Tensor(),
               Conv2dParams{});
  EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "1x1 conv2d";
  const Tensor xl = randn({7, 33}, 35), wl = randn({19, 33}, 36), bl = randn({19}, 37);
  for (bool with_bias : {true, false}) {
    o = run_both(cpu::linear, cuda_emulated::linear, {7, 19}, DType::F32, xl, wl, with_bias ? bl : Tensor());
    EXPECT_TRUE(allclose(o.got, o.expected, kTolerance)) << "linear, bias " << with_bias;
  }
}

}  // namespace
}  // namespace sc::test
