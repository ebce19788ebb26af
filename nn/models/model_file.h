// A smoothcuda model file: a safetensors file holding the weights by their original (PyTorch) key names and
// the metadata that rebuilds the model: arch, num_classes, input_shape "C,H,W", mean/std "a,b,c" and
// "flag.NAME" entries for architecture flags.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/safetensors.h"
#include "nn/models/registry.h"

namespace sc {

std::map<std::string, std::string> spec_to_metadata(const ModelSpec& spec);
ModelSpec spec_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& source);

// Builds the model from the file's metadata and loads its weights (strictly) onto `device`.
std::unique_ptr<Classifier> load_model(const std::string& path, Device device = Device::cpu());
// The same from a model file's parsed contents, on the CPU; `what` names the file in errors.
std::unique_ptr<Classifier> model_from_safetensors(const io::Safetensors& file, const std::string& what);
void save_model(const std::string& path, Classifier& model, const std::map<std::string, std::string>& extra = {});

}  // namespace sc
