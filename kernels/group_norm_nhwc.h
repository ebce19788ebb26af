// group_norm_nhwc: the fast denoiser's GroupNorm on NHWC maps, with an optional SiLU after it:
//   y[n, p, c] = act((x[n, p, c] − mean[n, g]) / √(var[n, g] + eps) · gamma[c] + beta[c]),  g = c / (C/G)
// mean and (biased) var over the H·W·C/G values of sample n's group g (PyTorch's GroupNorm), act = SiLU or
// the identity. gamma/beta may fold a timestep embedding's scale and shift (norm(h)·(1 + s) + b). x and y are
// float32, bfloat16 or float16 (the same type); statistics are float on CUDA (Welford per channel, Chan's
// combination per group), double on the CPU.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
// x, y [N, H, W, C] (y preallocated, may not alias x), gamma/beta float32 [C].
void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y);
}  // namespace ops
namespace cpu {
void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y);
}
namespace cuda {
void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y);
}
}  // namespace sc
