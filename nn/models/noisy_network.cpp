#include "nn/models/noisy_network.h"

#include <cmath>

#include "kernels/gaussian_noise.h"
#include "nn/error.h"
#include "smoothing/noise.h"

namespace sc {

namespace {

class NoiseThenClassifier : public Module {
 public:
  NoiseThenClassifier(Classifier& classifier, float sigma, uint64_t seed)
      : classifier_(classifier), sigma_(sigma), seed_(seed) {}

  Tensor forward(const Tensor& x) override {
    SC_CHECK(x.dim() == 4, "noisy_network: x must be [N, C, H, W], got ", x.describe());
    // The whole batch as one "image" of one copy: every element of every row gets its own counter.
    const NoiseKey key{seed_, 0, noise::kRandomizedModel};
    const Tensor noisy = ops::add_gaussian_noise(x.contiguous(), 1, sigma_, key, draw_++).reshape(x.shape());
    return classifier_.forward(noisy);
  }
  Tensor backward(const Tensor& dy) override { return classifier_.backward(dy); }
  void collect(const std::string& prefix, NamedTensors& out) override {
    classifier_.collect(join_key(prefix, "classifier"), out);
  }
  std::string name() const override { return "NoiseThenClassifier"; }

 private:
  Classifier& classifier_;
  const float sigma_;
  const uint64_t seed_;
  uint32_t draw_ = 0;  // forward passes so far: the noise's sample index
};

}  // namespace

std::unique_ptr<Classifier> noisy_network(Classifier& classifier, double sigma, uint64_t seed) {
  SC_CHECK(std::isfinite(sigma) && sigma > 0, "noisy_network: the noise level must be positive, got ", sigma);
  ModelSpec spec = classifier.spec;
  spec.arch = classifier.spec.arch + "+noise";
  spec.mean.clear(), spec.std.clear();
  return std::make_unique<Classifier>(
      spec, std::make_unique<NoiseThenClassifier>(classifier, static_cast<float>(sigma), seed));
}

}  // namespace sc
