// Small classifiers: lenet, mlp, linear, and ProoD's detector CNNs (see small_nets.cpp for their layouts and
// keys).
#pragma once
#include "nn/models/registry.h"

namespace sc {

std::unique_ptr<Module> build_lenet(const ModelSpec& spec);
std::unique_ptr<Module> build_mlp(const ModelSpec& spec);
std::unique_ptr<Module> build_linear(const ModelSpec& spec);
std::unique_ptr<Module> build_prood_cnn(const ModelSpec& spec, int64_t width);

}  // namespace sc
