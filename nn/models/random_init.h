// Deterministic random parameters for a model, for tests and benchmarks ("the same random-weight models" on
// every side of a comparison): convolution and linear weights ~ N(0, 1/fan_in), biases and BatchNorm shifts
// and means ~ N(0, 0.1²), BatchNorm scales ~ 1 + N(0, 0.1²) and variances in [0.5, 1.5], so that activations
// stay in a sensible range through deep residual stacks.
#pragma once
#include <cstdint>

#include "nn/module.h"

namespace sc {

void randomize_parameters(Module& model, uint64_t seed);

// The starting point of training from scratch, as the reference code initializes (torchvision's ResNets and
// the CIFAR ResNets of Cohen et al.): convolution weights ~ N(0, 2/fan_out) (He et al., fan_out = out
// channels × kernel taps), linear weights and all biases of convolutions and linear layers ~ U(±1/√fan_in)
// (PyTorch's default), BatchNorm γ = 1, β = 0, running mean 0, running variance 1, no batches tracked;
// LayerNorms as BatchNorm's γ and β, transformers' class tokens and positions ~ N(0, 0.02²), layer scales
// 0.1.
void initialize_for_training(Module& model, uint64_t seed);

}  // namespace sc
