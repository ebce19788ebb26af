// noisy_input_conv: the fast path's first convolution. It reads the clean images and builds every sample's
// input while loading it, so the noisy batch is never stored:
//   in_b = normalize(image[slot(b)] + σ·noise(seed, image_id(b), phase, sample(b), ·))
//   y[b, oh, ow, o] = act(bias[o] + Σ_{r,s,c} w[o, r, s, c] · in_b[c, ih, iw]),  zero padding of the
//   normalized map
// normalize(v)[c] = (v − mean[c]) / std[c] (identity without mean/std). The noise is smoothing/noise.h's,
// indexed by the image's NCHW element order, so the samples are bit for bit those of add_gaussian_noise. Rows
// of the batch come in spans: `rows` consecutive rows are samples first_sample, first_sample + 1, … of image
// `slot` (noise index image_id). σ = 0 means no noise: a plain batch (each row its own slot) through the same
// kernel. Weights and bias are float32 and so are the products (the first layer sees the full-precision
// noise), unless p.round_operands rounds the input and weights to y's 16-bit type first (CUDA then runs it on
// tensor cores where C ≤ 4 and O is 16, 32 or a multiple of 64); y may be float32, bfloat16 or float16.
#pragma once
#include <vector>

#include "kernels/fused_conv.h"

namespace sc {

struct SampleSpan {
  int64_t rows = 0;
  int64_t slot = 0;
  uint32_t image_id = 0;
  uint32_t first_sample = 0;
};

struct NoisyInput {
  Tensor images;  // [S, C, H, W] float32, the clean images in [0, 1]
  std::vector<SampleSpan> spans;
  float sigma = 0.0f;
  uint64_t seed = 0;
  uint32_t phase = 0;
  Tensor mean, std;  // [C] float32 on the images' device, or undefined
  // CUDA: the batch already described in device memory by stage_noisy_input. The kernel then reads the
  // images' address, σ, seed, phase and spans from there, at rows staged_row0, … of the staged batch (`spans`
  // must be those rows), so that a captured CUDA graph (nn/cuda_graph.h) runs on whatever batch was staged
  // last. Undefined: each launch carries the description itself.
  Tensor staged;
  int64_t staged_row0 = 0;
};

// The batch description the CUDA kernel reads: what stage_noisy_input writes to device memory. Row r of the
// batch is sample first_sample[j] + r − row_start[j] of image slot[j] (noise index image_id[j]), for the span
// j with row_start[j] ≤ r < row_start[j + 1].
struct StagedNoise {
  static constexpr int kMaxSpans = 64;
  const float* images;
  uint64_t seed;
  float sigma;
  uint32_t phase;
  int count;
  int row_start[kMaxSpans + 1];
  int slot[kMaxSpans];
  uint32_t image_id[kMaxSpans];
  uint32_t first_sample[kMaxSpans];
};

// A plain batch [B, C, H, W]: each row its own slot, no noise.
NoisyInput plain_batch(const Tensor& images, const Tensor& mean, const Tensor& std);
// Rows [first, first + count) of `in` as an input of their own: the spans cut to them, each sample keeping
// its noise index, so the rows get the same samples as inside the whole batch (a staged input: its rows
// staged_row0 + first, …).
NoisyInput slice_rows(const NoisyInput& in, int64_t first, int64_t count);

namespace ops {
// Only stride, padding, relu and round_operands (with a 16-bit y) of p apply. y: [rows, Ho, Wo, O]
// preallocated.
void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y);
// Writes in's description (at most StagedNoise::kMaxSpans spans) into `table`, uint8 [sizeof(StagedNoise)]
// on in's CUDA device, in stream order, and returns `in` staged there from its first row. in.images must
// stay alive until the work queued after this has run.
NoisyInput stage_noisy_input(const NoisyInput& in, Tensor& table);
}  // namespace ops
namespace cpu {
void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y);
}
namespace cuda {
void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y);
// The call runs on tensor cores (round_operands, a 16-bit y, C ≤ 4, O = 16, 32 or a multiple of 64).
bool noisy_input_conv_uses_mma(const NoisyInput& in, const Tensor& w, const FusedConvParams& p,
                               const Tensor& y);
void stage_noisy_input(const NoisyInput& in, Tensor& table);
}

}  // namespace sc
