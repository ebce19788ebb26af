// The CUDA host wrappers of the kernel files that the SIMT emulator runs on the CPU (emulated_kernel.cpp.in):
// the same signatures as in sc::cuda, in namespace sc::cuda_emulated, taking CPU tensors.
#pragma once
#include <vector>

#include "kernels/fused_conv.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pooled_linear.h"
#include "nn/tensor.h"

namespace sc::cuda_emulated {
void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y);
void attention_nhwc(const Tensor& qkv, int64_t heads, Tensor& out);
void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y);
void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y);
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts);
}  // namespace sc::cuda_emulated
