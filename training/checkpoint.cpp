#include "training/checkpoint.h"

#include "io/safetensors.h"
#include "nn/models/model_file.h"
#include "nn/parse_number.h"
#include "nn/state_dict.h"

namespace sc::training {

namespace {
const std::string kOptimizer = "optimizer.", kLegacyMomentum = "momentum.";
}  // namespace

void save_checkpoint(const std::string& path, Classifier& model, const Optimizer& optimizer,
                     int64_t epochs_done, const std::string& options, const std::string& log) {
  std::vector<std::pair<std::string, Tensor>> tensors = state_dict(model);
  for (const auto& [name, t] : optimizer.state()) tensors.emplace_back(kOptimizer + name, t);
  auto metadata = spec_to_metadata(model.spec);
  metadata["train.epochs_done"] = std::to_string(epochs_done);
  metadata["train.options"] = options;
  metadata["train.log"] = log;
  io::write_safetensors(path, tensors, metadata);
}

TrainingCheckpoint load_checkpoint(const std::string& path, Device device) {
  const io::Safetensors st = io::read_safetensors(path);
  const std::string source = "checkpoint '" + path + "'";
  auto need = [&](const std::string& key) -> const std::string& {
    const auto it = st.metadata.find(key);
    SC_CHECK(it != st.metadata.end(), source, ": not a training checkpoint (no '", key, "' in its metadata)");
    return it->second;
  };
  TrainingCheckpoint c;
  const auto epochs = parse_int64(need("train.epochs_done"));
  SC_CHECK(epochs && *epochs >= 0, source, ": bad train.epochs_done '", need("train.epochs_done"), "'");
  c.epochs_done = *epochs;
  c.options = need("train.options");
  c.log = need("train.log");
  StateDict weights;
  for (const auto& [key, t] : st.tensors) {
    if (key.rfind(kOptimizer, 0) == 0)
      c.optimizer_state.emplace_back(key.substr(kOptimizer.size()), t);
    else if (key.rfind(kLegacyMomentum, 0) == 0)
      c.optimizer_state.emplace_back(key, t);
    else
      weights.emplace_back(key, t);
  }
  c.model = build_model(spec_from_metadata(st.metadata, source));
  load_state_dict(*c.model, weights, source);
  c.model->to(device);
  return c;
}

}  // namespace sc::training
