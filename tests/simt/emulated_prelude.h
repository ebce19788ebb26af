// Included first by every emulated kernel file (emulated_kernel.cpp.in): the emulator's built-ins, then every
// project header a kernel file may include, so that they keep their own namespaces; the kernel file, included
// after `#define cuda cuda_emulated`, then puts its kernels, its device helpers (common.cuh, half_types.cuh,
// ...) and its host wrapper into sc::cuda_emulated, beside the real sc::cuda ones in the same test program.
#pragma once
#include "simt.h"
// simt.h first: SC_SIMT_EMULATOR and the built-ins precede any kernel code
#include "emulated_kernels.h"
#include "kernels/argmax_order.h"
#include "kernels/attention_nhwc.h"
#include "kernels/float_dispatch.h"
#include "kernels/fused_conv.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pooled_linear.h"
#include "kernels/tf32_round.h"
#include "nn/cuda_check.h"
#include "nn/half.h"
#include "nn/tensor.h"
#include "smoothing/noise.h"

// What SC_CUDA_LAUNCH_CHECK and SC_CUDA_CHECK name once the namespace is renamed.
namespace sc::cuda_emulated {
void check_launch(const char* kernel, const char* file, int line);  // nothing to check (simt.cpp)
using ::sc::cuda::throw_cuda_error;
}  // namespace sc::cuda_emulated
