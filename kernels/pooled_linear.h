// pooled_linear: the fast path's classifier head, global average pooling and the linear layer in one pass:
//   logits[n, k] = bias[k] + Σ_c w[k, c] · (1/(H·W)) Σ_{h,w} pro(x[n, h, w, c])
// with pro(v) = act(scale[c]·v + shift[c]) (a final BatchNorm + ReLU, as in WideResNet) or the identity.
// x is NHWC float32, bfloat16 or float16; weights, bias and logits are float32 and the sums are float32.
// pooled_linear_vote ends the smoothing loop's batch in the same pass: the row's label (argmax of its logits,
// the order of kernels/argmax_order.h) is counted into its image's histogram, and the logits are never
// stored:
//   counts[slot(n), argmax_k logits[n, k]] += 1,  rows grouped in consecutive runs that share a slot.
#pragma once
#include <vector>

#include "nn/tensor.h"

namespace sc {

struct RowRun {
  int64_t rows = 0;  // consecutive rows of x
  int64_t slot = 0;  // their histogram: counts[slot]
};

namespace ops {
// x [N, H, W, C], w [K, C], bias [K] or undefined, scale/shift [C] (both or neither), logits [N, K]
// preallocated.
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
// counts: int64 [S, K] on x's device; the runs cover x's N rows exactly, slots in [0, S).
void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts);
}  // namespace ops
namespace cpu {
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts);
}  // namespace cpu
namespace cuda {
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts);
}  // namespace cuda
}  // namespace sc
