// residual_stage: a run of post-activation basic residual blocks (He et al.: the CIFAR ResNets' stages after
// their first block) on NHWC activations, every convolution 3×3, stride 1, padding 1, C channels in and out,
// with its BatchNorm folded into its weights and bias:
//   for b = 0 … L/2 − 1:
//     t = relu(conv(x, w[2b]) + bias[2b])
//     x = relu(conv(t, w[2b + 1]) + bias[2b + 1] + x)
//   y = x
// Every map is stored in the activation type between the convolutions (t and x are rounded as fused_conv
// rounds its outputs), so the stage gives what the chain of its fused_conv steps gives.
//
// Why an op of its own: layer by layer, each convolution of a narrow stage sends its map through device
// memory and back (ResNet-110's 16-channel convolutions spend most of their time so). On CUDA a block here
// keeps a few samples' maps in shared memory through every convolution of the stage and streams only the
// weights.
#pragma once
#include "kernels/fused_conv.h"
#include "nn/tensor.h"

namespace sc {

// The stage as the chain of fused_conv steps it stands for, each step by `conv`, called as
// conv(x, w, bias, residual, params, y) (a fused_conv back end). t, a and b are scratch maps of x's shape,
// none of them x; returns the one of a and b that holds the stage's output. The CPU back end, and the steps
// that the fused kernel is checked and timed against.
template <typename FusedConv>
const Tensor& residual_stage_by_steps(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& t,
                                      Tensor& a, Tensor& b, FusedConv conv) {
  FusedConvParams p;
  p.pad_h = p.pad_w = 1;
  p.relu = true;
  const int64_t C = x.size(3);
  const auto layer_w = [&](int64_t l) { return w.slice(0, l, l + 1).reshape({C, 3, 3, C}); };
  const auto layer_b = [&](int64_t l) { return bias.slice(0, l, l + 1).reshape({C}); };
  const Tensor* cur = &x;
  for (int64_t l = 0; l < w.size(0); l += 2) {
    Tensor& out = cur == &a ? b : a;
    conv(*cur, layer_w(l), layer_b(l), Tensor(), p, t);
    conv(t, layer_w(l + 1), layer_b(l + 1), *cur, p, out);
    cur = &out;
  }
  return *cur;
}

namespace ops {
// x [N, H, W, C], w [L, C, 3, 3, C] (L even, at least 2) in x's dtype, bias [L, C] float32, y like x (y may
// be x itself: the stage runs in place).
void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
// Whether the device runs the stage as one fused kernel for maps of this shape and dtype. Where it does not,
// the op still runs (the CPU reference), but a caller on a GPU should run the steps one by one instead
// (ops::fused_conv): the CUDA back end takes only what its kernel fits.
bool residual_stage_fused(const Device& device, DType dtype, int64_t H, int64_t W, int64_t C);
}  // namespace ops
namespace cpu {
void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
}
namespace cuda {
// bfloat16 or float16, C of 16, 32 or 64, and a map whose two copies with a one-pixel border (plus two
// layers' weights) fit one block's shared memory.
bool residual_stage_fits(DType dtype, int64_t H, int64_t W, int64_t C);
void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
}  // namespace cuda

}  // namespace sc
