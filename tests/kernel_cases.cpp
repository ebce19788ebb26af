// The shared kernel test cases (kernel_cases.h).
#include "kernel_cases.h"

#include <algorithm>
#include <cmath>

#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "test_util.h"

namespace sc::test {

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << c.N << "x" << c.H << "x" << c.W << "x" << c.C << "->" << c.O << " k" << c.K << " s" << c.stride
      << (c.gelu ? " gelu" : "");
}

const std::vector<ConvCase>& fused_conv_cases() {
  static const std::vector<ConvCase> cases = {
      {3, 9, 11, 5, 7, 3, 2, 1, true, true, 1, 0, 0},       // fallback (odd C)
      {5, 13, 7, 16, 16, 3, 1, 1, false, true, 1, 0, 16},   // 16-wide tile, partial M
      {4, 10, 9, 16, 32, 3, 2, 1, false, false, 2, 8, 16},  // option-A residual
      {2, 8, 8, 8, 24, 3, 1, 1, true, true, 1, 0, 0},       // K = 72: partial k tile
      {3, 7, 5, 64, 136, 1, 1, 0, false, true, 1, 0, 136},  // 64-wide tiles, partial N
      {3, 7, 9, 32, 256, 3, 1, 1, true, true, 1, 0, 256},   // 128-wide tiles, partial M
      {2, 15, 15, 32, 64, 3, 2, 1, true, false, 1, 0, 0},
      {3, 3, 1, 8, 16, 3, 2, 1, true, true, 1, 0, 0},    // one column, stride 2: taps wholly in the padding
      {3, 9, 7, 12, 40, 3, 1, 1, true, true, 1, 0, 40},  // tf32 tensor cores only (runs of 4 floats), K = 108
      // CPU: the prologue into the zero border, windows read in place; one output pixel per sample (a linear
      // layer of a flattened map, a 3×3 kernel over the padding around one pixel)
      {3, 20, 24, 4, 16, 3, 1, 1, true, true, 1, 0, 16},
      {4, 4, 4, 16, 24, 4, 1, 0, false, true, 1, 0, 0},
      {5, 1, 1, 8, 16, 3, 1, 1, true, true, 1, 0, 16},
      // 3×3 halo kernel: 128-pixel tiles of 4, 8 or 16 rows; 64-pixel tiles (8×8 maps); prologue; residuals
      {3, 32, 32, 16, 16, 3, 1, 1, false, true, 1, 0, 16},
      {2, 16, 16, 32, 32, 3, 1, 1, true, true, 1, 0, 0},
      {3, 8, 8, 64, 64, 3, 1, 1, true, false, 2, 0, 64},
      {2, 16, 8, 16, 16, 3, 1, 1, false, true, 1, 8, 8},
      {5, 8, 8, 16, 16, 3, 1, 1, true, true, 1, 0, 16},
      {2, 16, 16, 64, 64, 3, 1, 1, false, true, 1, 0, 64},
      {3, 8, 8, 32, 32, 3, 1, 1, true, false, 1, 0, 0},
      // C and O multiples of 64, no prologue: Hopper's wgmma kernel where it is on (64-, 128- and 256-wide
      // tiles, zero-filled padding and rows past M, a channel-offset residual, 27 k tiles)
      {3, 7, 9, 64, 64, 3, 1, 1, false, true, 1, 0, 64},
      {2, 9, 11, 128, 128, 1, 1, 0, false, true, 1, 0, 0},
      {2, 6, 5, 64, 256, 3, 2, 1, false, false, 1, 0, 256},
      {1, 6, 10, 192, 320, 3, 1, 1, false, true, 1, 64, 128},
      // GELU in the epilogue (a transformer MLP's first layer, 1×1 on rows of tokens): mma.sync, wgmma, the
      // halo kernel after a residual; float32 on the tile kernel, tf32 on mma.sync
      {3, 1, 13, 64, 200, 1, 1, 0, false, false, 1, 0, 0, true},
      {2, 1, 13, 64, 256, 1, 1, 0, false, false, 1, 0, 0, true},
      {2, 8, 8, 16, 16, 3, 1, 1, false, false, 1, 0, 16, true}};
  return cases;
}

FusedConvInputs fused_conv_inputs(const ConvCase& k, DType dtype, bool tf32) {
  const int64_t Ho = conv_out_size(k.H, k.K, k.stride, k.pad, 1),
                Wo = conv_out_size(k.W, k.K, k.stride, k.pad, 1);
  FusedConvInputs in;
  in.x = randn({k.N, k.H, k.W, k.C}, 1, 0.7f).astype(dtype);
  in.w = randn({k.O, k.K, k.K, k.C}, 2, 0.2f).astype(dtype);
  in.bias = randn({k.O}, 3, 0.2f);
  if (k.prologue) in.scale = randn({k.C}, 4, 0.5f), in.shift = randn({k.C}, 5, 0.3f);
  if (k.res_channels > 0)
    in.residual = randn({k.N, (Ho - 1) * k.res_stride + 1, (Wo - 1) * k.res_stride + 1, k.res_channels}, 6)
                      .astype(dtype);
  FusedConvParams& p = in.params;
  p.stride_h = p.stride_w = k.stride;
  p.pad_h = p.pad_w = k.pad;
  p.relu = k.relu;
  p.gelu = k.gelu;
  p.prologue_relu = k.prologue;
  p.residual_stride = k.res_stride;
  p.residual_channel_offset = k.res_offset;
  p.tf32 = tf32;
  in.out_shape = {k.N, Ho, Wo, k.O};
  return in;
}

double fused_conv_tolerance(DType dtype) {
  return dtype == DType::BF16 ? 1e-2 : dtype == DType::F16 ? 2e-3 : 1e-5;
}

void PrintTo(const StageCase& c, std::ostream* os) {
  *os << c.N << "x" << c.H << "x" << c.W << "x" << c.C << " L" << c.L;
}

const std::vector<StageCase>& residual_stage_cases() {
  static const std::vector<StageCase> cases = {
      {5, 32, 32, 16, 4},  // ResNet-110's first stage: one sample per block
      {3, 6, 10, 16, 2},   // rows of 10: ldmatrix tiles across rows; three samples per block
      {7, 16, 16, 32, 4},  // the second stage
      {4, 5, 7, 32, 2},    // an odd map, 35 pixels per sample
      {9, 8, 8, 64, 2},    // the third stage: two samples per block, one in the last group
      {2, 3, 3, 64, 4}};   // a map smaller than a fragment
  return cases;
}

StageInputs residual_stage_inputs(const StageCase& c, DType dtype) {
  StageInputs in;
  in.x = randn({c.N, c.H, c.W, c.C}, 31, 0.7f).astype(dtype);
  in.w = randn({c.L, c.C, 3, 3, c.C}, 32, 1.0f / std::sqrt(9.0f * static_cast<float>(c.C))).astype(dtype);
  in.bias = randn({c.L, c.C}, 33, 0.1f);
  return in;
}

std::vector<NoisyConvCase> noisy_input_conv_cases() {
  struct Geometry {
    int64_t C, H, W, O, K, stride, pad;
  };
  std::vector<NoisyConvCase> cases;
  for (const Geometry& g :
       {Geometry{3, 32, 32, 16, 3, 1, 1}, Geometry{3, 64, 72, 64, 7, 2, 3}, Geometry{1, 28, 28, 6, 5, 1, 0},
        Geometry{1, 12, 12, 40, 12, 1, 0}, Geometry{3, 15, 13, 16, 3, 1, 1},
        Geometry{1, 140, 6, 8, 3, 1, 1},  // more pixel groups than threads in a block
        // round_operands on tensor cores: 4 channels, 5×5 (taps past the last k step), 32 outputs; two
        // passes of 64 outputs over two strips; a map smaller than one m16 tile
        Geometry{4, 9, 11, 32, 5, 2, 1}, Geometry{1, 70, 20, 128, 3, 1, 1}, Geometry{2, 5, 5, 16, 3, 1, 0}}) {
    NoisyConvCase c;
    c.name = "C" + std::to_string(g.C) + " H" + std::to_string(g.H) + " W" + std::to_string(g.W) + " K" +
             std::to_string(g.K);
    c.in.images = random_images({3, g.C, g.H, g.W}, 7);
    if (g.C == 3) {
      c.in.mean = Tensor::from_vector<float>({0.4f, 0.5f, 0.6f}, {3});
      c.in.std = Tensor::from_vector<float>({0.2f, 0.25f, 0.3f}, {3});
    }
    c.in.sigma = 0.5f, c.in.seed = 99, c.in.phase = 1;
    c.in.spans = {{2, 2, 70, 1000}};
    for (int i = 0; i < 70; ++i)
      c.in.spans.push_back({1, i % 3, static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
    c.w = randn({g.O, g.K, g.K, g.C}, 8, 0.2f);
    c.bias = randn({g.O}, 9, 0.1f);
    c.params.stride_h = c.params.stride_w = g.stride;
    c.params.pad_h = c.params.pad_w = g.pad;
    c.params.relu = true;
    c.out_shape = {72, conv_out_size(g.H, g.K, g.stride, g.pad, 1),
                   conv_out_size(g.W, g.K, g.stride, g.pad, 1), g.O};
    cases.push_back(std::move(c));
  }
  return cases;
}

VoteCase vote_case(int64_t classes, int64_t channels, int64_t runs) {
  VoteCase c;
  c.slots = 5, c.classes = classes;
  int64_t rows = 0;
  for (int64_t r = 0; r < runs; ++r) {
    c.runs.push_back({1 + (r * 7) % 5, (r * 3) % c.slots});
    rows += c.runs.back().rows;
  }
  c.x = randn({rows, 2, 3, channels}, 21).astype(DType::BF16);
  c.w = randn({classes, channels}, 22), c.bias = randn({classes}, 23);
  for (int64_t ch = 0; ch < channels; ++ch)
    c.w.data<float>()[7 * channels + ch] = c.w.data<float>()[3 * channels + ch] = 5.0f;
  c.bias.data<float>()[7] = c.bias.data<float>()[3] = 4.0f;
  return c;
}

std::vector<int64_t> votes_of_logits(const VoteCase& c, const Tensor& logits, int64_t* ties) {
  const int64_t K = c.classes;
  std::vector<int64_t> votes(static_cast<size_t>(c.slots * K), 0);
  int64_t row = 0;
  *ties = 0;
  for (const RowRun& r : c.runs)
    for (int64_t i = 0; i < r.rows; ++i, ++row) {
      const float* l = logits.data<float>() + row * K;
      const int64_t best = std::max_element(l, l + K) - l;  // the first maximum; no NaN here
      *ties += best == 3;
      ++votes[static_cast<size_t>(r.slot * K + best)];
    }
  return votes;
}

const std::vector<std::array<int64_t, 5>>& group_norm_cases() {
  // One chunk of 64 positions or several (the last partial); groups of 3, 8, 12 (the UNet's 384-channel
  // concat: a 16-byte vector spans two groups) and 64 channels; 2048 channels (the CUDA limit); 30 channels
  // (no vector loads); more groups (512) than threads in a block.
  static const std::vector<std::array<int64_t, 5>> cases = {{3, 5, 7, 96, 32},   {2, 16, 16, 256, 32},
                                                            {2, 4, 4, 2048, 32}, {2, 9, 13, 384, 32},
                                                            {3, 5, 7, 30, 3},    {2, 3, 5, 1024, 512}};
  return cases;
}

GroupNormInputs group_norm_inputs(const std::array<int64_t, 5>& c, DType dtype) {
  const auto [N, H, W, C, G] = c;
  return {ops::affine(randn({N, H, W, C}, 41, 2.0f), 1.0f, 3.0f).astype(dtype), randn({C}, 42),
          randn({C}, 43), G};
}

const std::vector<AttentionCase>& attention_cases() {
  // Partial key tiles (63, 150, 130 and 4 positions); with spread 2, peaked softmaxes whose running max moves
  // from tile to tile.
  static const std::vector<AttentionCase> cases = {
      {63, 3, 16, 0.5f}, {256, 4, 64, 0.5f}, {150, 2, 32, 0.5f}, {130, 1, 64, 2.0f}, {4, 2, 32, 1.0f}};
  return cases;
}

Tensor attention_input(const AttentionCase& c, DType dtype) {
  return randn({2, c.T, 3 * c.heads * c.d}, 45, c.spread).astype(dtype);
}

}  // namespace sc::test
