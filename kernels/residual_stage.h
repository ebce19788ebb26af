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
#include "nn/tensor.h"

namespace sc {

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
