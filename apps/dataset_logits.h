// A classifier's logits for chosen images of a dataset, batch by batch on its device, with a progress line:
// shared by `eval` and `ood`.
#pragma once
#include <string>
#include <vector>

#include "engine/fast_classifier.h"
#include "io/dataset.h"
#include "nn/models/registry.h"

namespace sc::app {

// float32 [indices.size(), classes] on the CPU. `fast` (may be null) runs instead of model.forward; the
// images must have the model's input shape. `label` names the progress line.
Tensor dataset_logits(const io::Dataset& data, const std::vector<int64_t>& indices, Classifier& model,
                      FastClassifier* fast, Device device, int64_t batch, const std::string& label);

}  // namespace sc::app
