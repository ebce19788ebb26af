// The arithmetic the fast path evaluates a classifier in. A certificate holds for the network as evaluated,
// so the choice is part of the experiment: results files record it (certify prints it with the run's
// settings).
//   fp32: float32 activations and products.
//   tf32: float32 activations, operands of the convolutions rounded to TF32 (on CUDA, TF32 tensor cores).
//   bf16 / fp16: activations and convolution weights stored in bfloat16 / float16, products accumulated in
//   float32. The first convolution (which reads the noise) and the classifier head stay float32.
#pragma once
#include <string>

#include "nn/device.h"
#include "nn/dtype.h"

namespace sc {

enum class Precision { FP32, TF32, BF16, FP16 };

Precision parse_precision(const std::string& name);  // fp32 | tf32 | bf16 | fp16, else a clear error
const char* precision_name(Precision p);
DType activation_dtype(Precision p);
// A first convolution's input channels (an image's few) zero-padded to what fused_conv runs on tensor cores:
// a multiple of 8 in bf16/fp16 and of 4 in tf32 (3 channels would take the float32 tile kernel).
int64_t tensor_core_input_channels(int64_t channels, Precision p);

// `--precision auto`. On CUDA fp16: of the precisions whose noisy-sample predictions agree with fp32 on at
// least 99.9% of samples for the shipped and test models (docs/PRECISION.md, measured on an H100 too), the
// fastest there (bf16 is as fast but misses 99.9% on clean-trained ResNets; tf32 runs at 40% of fp16's
// rate). fp32 on the CPU (where the reduced precisions are emulated, hence slower) and wherever the fast
// engine does not run the model (fast_engine false: --engine generic, or a model that does not lower).
Precision default_precision(const Device& device, bool fast_engine);

}  // namespace sc
