// A classifier's logits for chosen images of a dataset, batch by batch on its device, with a progress line:
// shared by `eval` and `ood`.
#pragma once
#include <string>
#include <vector>

#include "io/dataset.h"
#include "smoothing/base_classifier.h"

namespace sc::app {

// float32 [indices.size(), classes] on the CPU; the images must have the classifier's input shape. `label`
// names the progress line.
Tensor dataset_logits(const io::Dataset& data, const std::vector<int64_t>& indices,
                      BaseClassifier& classifier, int64_t batch, const std::string& label);

}  // namespace sc::app
