// The architecture registry: a ModelSpec (architecture name, input shape, classes, normalization, flags)
// builds a Classifier, whose forward is net(normalize(x)) on images in [0,1]. The denoisers
// (nn/models/denoisers.h) are built the same way, with 0 classes and no normalization: their forward gives
// images, not logits.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace sc {

struct ModelSpec {
  std::string arch;
  int64_t num_classes = 10;  // 0 for a denoiser
  int64_t channels = 3, height = 32, width = 32;
  std::vector<float> mean, std;              // empty: identity normalization
  std::map<std::string, std::string> flags;  // architecture-specific (e.g. hidden sizes)

  int64_t flag_int(const std::string& key, int64_t fallback) const;
};

class Classifier : public Module {
 public:
  Classifier(ModelSpec spec, std::unique_ptr<Module> net);
  Tensor forward(const Tensor& x) override;               // x: [N, C, H, W] in [0,1] → logits [N, classes]
  Tensor backward(const Tensor& dy) override;             // dy: [N, classes] → the gradient in image space
  Interval bounds(const Interval& x) override;            // a box of images → bounds on the logits
  Interval bounds_backward(const Interval& dy) override;  // bounds on the logits → the image box
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return spec.arch; }
  ModelSpec spec;
  std::unique_ptr<Normalize> normalize;  // null when the spec has no mean/std
  std::unique_ptr<Module> net;
};

using ModelBuilder = std::function<std::unique_ptr<Module>(const ModelSpec&)>;

std::unique_ptr<Classifier> build_model(const ModelSpec& spec);
std::vector<std::string> model_archs();

}  // namespace sc
