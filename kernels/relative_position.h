// BEiT's relative position bias (timm's gen_relative_position_index), shared by the CPU and CUDA paths of
// token_attention and attention_nhwc: for tokens [class, patches of a gh × gw grid in row-major order] and
// R = (2gh − 1)(2gw − 1) + 3 table rows, the pair (t, s) reads row
//   (y_t − y_s + gh − 1)·(2gw − 1) + (x_t − x_s + gw − 1)   for two patches at (y, x),
//   R − 3 (class → patch), R − 2 (patch → class), R − 1 (class → class).
#pragma once
#include <cstdint>

#include "kernels/host_device.h"
#include "nn/tensor.h"

namespace sc {

// table [R, heads] for tokens [class, gh × gw patches]: R = relative_position_rows(gh, gw). Undefined: no
// bias.
struct RelativePositionBias {
  Tensor table;
  int64_t grid_h = 0, grid_w = 0;
};

SC_HOST_DEVICE int64_t relative_position_rows(int64_t gh, int64_t gw) {
  return (2 * gh - 1) * (2 * gw - 1) + 3;
}

// The row of the pair (t, s) from each token's patch coordinates (y, x); y < 0 marks the class token (the
// kernels compute coordinates once per token).
template <typename I>
SC_HOST_DEVICE I relative_position_row(I yt, I xt, I ys, I xs, I gh, I gw) {
  const I rows = (2 * gh - 1) * (2 * gw - 1) + 3;
  if (yt < 0) return ys < 0 ? rows - 1 : rows - 3;
  if (ys < 0) return rows - 2;
  return (yt - ys + gh - 1) * (2 * gw - 1) + (xt - xs + gw - 1);
}

// The row of the pair of tokens (t, s), in the index type I (the CUDA kernels' 32 bits, the CPU's 64).
template <typename I>
SC_HOST_DEVICE I relative_position_index(I t, I s, I gh, I gw) {
  return relative_position_row<I>(t == 0 ? -1 : (t - 1) / gw, t == 0 ? 0 : (t - 1) % gw,
                                  s == 0 ? -1 : (s - 1) / gw, s == 0 ? 0 : (s - 1) % gw, gh, gw);
}

namespace ops {
// The checks of a bias for qkv [B, T, ·] with `heads` heads: table float32, contiguous, on qkv's device,
// [R, heads], and T = gh·gw + 1 tokens. No table: nothing to check.
void check_relative_position_bias(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias,
                                  const char* op);
}  // namespace ops

}  // namespace sc
