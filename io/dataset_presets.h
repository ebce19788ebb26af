// What a named dataset implies for a model: input shape, number of classes and the usual normalization
// constants (Cohen et al.'s for CIFAR-10; ImageNet's; none for MNIST-style data).
#pragma once
#include <string>
#include <vector>

namespace sc::io {

struct DatasetPreset {
  std::string name;
  int64_t channels, height, width, num_classes;
  std::vector<float> mean, std;  // empty: no normalization
};

const DatasetPreset* dataset_preset(const std::string& name);  // nullptr for unknown names
extern const std::vector<float> kImageNetMean, kImageNetStd, kCifar10Mean, kCifar10Std;

}  // namespace sc::io
