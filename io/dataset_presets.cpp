#include "io/dataset_presets.h"

namespace sc::io {

const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};
const std::vector<float> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
const std::vector<float> kCifar10Std = {0.2023f, 0.1994f, 0.2010f};

const DatasetPreset* dataset_preset(const std::string& name) {
  static const std::vector<DatasetPreset> presets = {
      {"cifar10", 3, 32, 32, 10, kCifar10Mean, kCifar10Std},
      {"cifar100", 3, 32, 32, 100, kCifar10Mean, kCifar10Std},
      {"imagenet", 3, 224, 224, 1000, kImageNetMean, kImageNetStd},
      {"mnist", 1, 28, 28, 10, {}, {}},
      {"fashion-mnist", 1, 28, 28, 10, {}, {}},
  };
  for (const auto& p : presets)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace sc::io
