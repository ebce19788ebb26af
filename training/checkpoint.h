// Training checkpoints: one safetensors file, written atomically after every epoch, holding everything a
// resumed run needs: the model's state dict (its own keys), the optimizer's state ("optimizer.<name>", its
// Optimizer::state() names; checkpoints written before Adam hold SGD's as "momentum.<key>"), the model's
// metadata, and in metadata the epochs done, the options of the run and the training log's rows so far.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/models/registry.h"
#include "training/optimizer.h"

namespace sc::training {

struct TrainingCheckpoint {
  std::unique_ptr<Classifier> model;
  std::vector<std::pair<std::string, Tensor>> optimizer_state;  // for Optimizer::load_state
  int64_t epochs_done = 0;
  std::string options;  // TrainOptions::describe()
  std::string log;      // the log's rows (no header), each ending in a newline
};

void save_checkpoint(const std::string& path, Classifier& model, const Optimizer& optimizer,
                     int64_t epochs_done, const std::string& options, const std::string& log);
// Fails naming the file when it is not a complete checkpoint.
TrainingCheckpoint load_checkpoint(const std::string& path, Device device);

}  // namespace sc::training
