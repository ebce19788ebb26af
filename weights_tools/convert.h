// Checkpoint conversion: a PyTorch checkpoint (zip or legacy) → a smoothcuda model (its architecture built,
// its weights loaded strictly by their own key names after removing wrapper prefixes such as DataParallel's
// "module." and Cohen's "1."), written as a safetensors model file with metadata.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/models/registry.h"

namespace sc {

struct ConvertOptions {
  std::string arch;     // empty: the checkpoint's own 'arch' entry (Cohen's format)
  std::string dataset;  // a preset (cifar10, cifar100, imagenet, mnist, fashion-mnist) for shape, classes, norm
  std::vector<float> mean, std;  // explicit normalization (overrides the preset)
  int64_t num_classes = -1;      // -1: the preset's
  std::vector<int64_t> input_shape;  // C,H,W; empty: the preset's
  std::map<std::string, std::string> flags;
};

struct ConvertedModel {
  std::unique_ptr<Classifier> model;
  std::map<std::string, std::string> metadata;  // spec plus provenance (source file, sha256, key prefix)
};

// The spec of architecture `arch` from the options: the dataset preset (or the one the architecture implies),
// then explicit overrides. `what` names the source in errors.
ModelSpec make_spec(const std::string& arch, const ConvertOptions& options, const std::string& what);
// What published checkpoints of an architecture expect where the options leave it open (convert_checkpoint
// applies it after make_spec): Hugging Face's ViT checkpoints take 224×224 images mapped to [−1, 1] (their
// image processor's mean and std 0.5), whatever the dataset's own size; timm's BEiT (v1) ones [−1, 1] too
// (their configs' mean and std 0.5), at their own size.
void apply_checkpoint_conventions(ModelSpec& spec, const ConvertOptions& options);
// True for the file names that hold PyTorch checkpoints (.pt, .pth, .pth.tar, .th, .ckpt, .tar).
bool is_torch_checkpoint_path(const std::string& path);
ConvertedModel convert_checkpoint(const std::string& path, const ConvertOptions& options);
void write_converted(const std::string& path, ConvertedModel& converted);
// A model from either a smoothcuda model file or a PyTorch checkpoint (converted in memory with `options`).
std::unique_ptr<Classifier> load_any_model(const std::string& path, Device device, const ConvertOptions& options);

}  // namespace sc
