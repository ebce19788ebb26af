// A classifier's logits for chosen images of a dataset, batch by batch on its device, with a progress line:
// shared by `eval` and `ood`; and the batch reader under it (also `attack`'s and `ood`'s attacks and bounds).
#pragma once
#include <string>
#include <vector>

#include "io/dataset.h"
#include "smoothing/base_classifier.h"

namespace sc::app {

// The images indices[b0 … b1) as one float32 batch [b1 − b0, C, H, W] on the CPU.
Tensor read_batch(const io::Dataset& data, const std::vector<int64_t>& indices, int64_t b0, int64_t b1);

// float32 [indices.size(), classes] on the CPU; the images must have the classifier's input shape. `label`
// names the progress line.
Tensor dataset_logits(const io::Dataset& data, const std::vector<int64_t>& indices,
                      BaseClassifier& classifier, int64_t batch, const std::string& label);

}  // namespace sc::app
