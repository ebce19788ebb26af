// The model-loading options shared by every command that takes a MODEL (a .safetensors model file or a
// PyTorch checkpoint converted in memory): --arch, --dataset, --mean, --std, --num-classes, --input-shape.
#pragma once
#include "apps/args.h"
#include "weights_tools/convert.h"

namespace sc::app {

void add_model_options(Args& args);
// `dataset_default` names the preset used when --dataset is not given (the command's DATASET, if a preset).
ConvertOptions model_options(const Args& args, const std::string& dataset_default = "");
std::vector<float> parse_floats(const std::string& text, const std::string& what);

}  // namespace sc::app
