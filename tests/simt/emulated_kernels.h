// The CUDA host wrappers of the kernel files that the SIMT emulator runs on the CPU (emulated_kernel.cpp.in):
// every kernel header is included here with its `cuda` namespace renamed, so the same declarations name the
// sc::cuda_emulated wrappers (taking CPU tensors) beside the real sc::ops and sc::cpu functions. Include this
// header before any other kernel header: a kernel header included earlier would not be seen again.
#pragma once
#include "nn/cuda_check.h"  // the real sc::cuda helpers (stream, grid_for, errors), before the renaming
#include "nn/tensor.h"

#define cuda cuda_emulated
#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/argmax.h"
#include "kernels/attention_nhwc.h"
#include "kernels/batch_norm.h"
#include "kernels/cast.h"
#include "kernels/channel_modulate.h"
#include "kernels/channel_normalize.h"
#include "kernels/class_histogram.h"
#include "kernels/concat.h"
#include "kernels/conv2d.h"
#include "kernels/ddpm_step.h"
#include "kernels/elementwise.h"
#include "kernels/fill.h"
#include "kernels/fused_conv.h"
#include "kernels/gaussian_noise.h"
#include "kernels/group_norm.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/linear.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pad_channels.h"
#include "kernels/pool2d.h"
#include "kernels/pool2d_nhwc.h"
#include "kernels/pooled_linear.h"
#include "kernels/qkv_attention.h"
#include "kernels/relu.h"
#include "kernels/residual_stage.h"
#include "kernels/resize_bicubic.h"
#include "kernels/silu.h"
#include "kernels/softmax.h"
#include "kernels/strided_copy.h"
#include "kernels/subsample2d.h"
#include "kernels/timestep_embedding.h"
#include "kernels/upsample_nearest2x.h"
#include "kernels/upsample_nearest2x_nhwc.h"
#undef cuda
