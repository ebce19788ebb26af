#include "nn/models/denoisers.h"

#include <cmath>

#include "kernels/elementwise.h"
#include "nn/layers.h"
#include "nn/models/random_init.h"

namespace sc {

namespace {

// a − b (exact up to the one rounding of the difference).
Tensor difference(const Tensor& a, const Tensor& b) {
  return ops::combine(1.0f, a, -1.0f, b, -INFINITY, INFINITY);
}

// x − body(x): a network that predicts what to remove from its input.
class ResidualDenoiser : public Module {
 public:
  ResidualDenoiser(std::string key, std::unique_ptr<Module> body)
      : key_(std::move(key)), body_(std::move(body)) {}
  Tensor forward(const Tensor& x) override { return difference(x, body_->forward(x)); }
  // dx = dy − J_bodyᵀ·dy; the body's parameters receive the gradient of −body(x), so it runs on −dy.
  Tensor backward(const Tensor& dy) override {
    return ops::add(dy, body_->backward(ops::affine(dy, -1.0f, 0.0f)));
  }
  void collect(const std::string& prefix, NamedTensors& out) override {
    body_->collect(join_key(prefix, key_), out);
  }
  std::string name() const override { return "ResidualDenoiser"; }

 private:
  std::string key_;
  std::unique_ptr<Module> body_;
};

// The denoiser network, then the classifier; both borrowed (their tensors are theirs: collect adds none).
class DenoiserThenClassifier : public Module {
 public:
  DenoiserThenClassifier(Module& denoiser, Classifier& classifier)
      : denoiser_(denoiser), classifier_(classifier) {}
  Tensor forward(const Tensor& x) override { return classifier_.forward(denoiser_.forward(x)); }
  Tensor backward(const Tensor& dy) override { return denoiser_.backward(classifier_.backward(dy)); }
  std::string name() const override { return "DenoiserThenClassifier"; }

 private:
  Module& denoiser_;
  Classifier& classifier_;
};

}  // namespace

bool is_denoiser_arch(const std::string& arch) {
  return arch == "cifar_dncnn" || arch == "cifar_dncnn_wide" || arch == "imagenet_dncnn" || arch == "dncnn";
}

std::unique_ptr<Module> build_dncnn(const ModelSpec& s, int64_t default_width) {
  const int64_t depth = s.flag_int("depth", 17), width = s.flag_int("width", default_width);
  SC_CHECK(depth >= 2 && depth <= 1000, "model flag depth must be in [2, 1000], got ", depth);
  SC_CHECK(width >= 1 && width <= 4096, "model flag width must be in [1, 4096], got ", width);
  const Conv2dParams same = Conv2dParams::square(1, 1);
  auto body = std::make_unique<Sequential>();  // children named by their index, as in nn.Sequential
  body->emplace<Conv2d>("", s.channels, width, 3, same);
  body->emplace<ReLU>("");
  for (int64_t layer = 0; layer < depth - 2; ++layer) {
    body->emplace<Conv2d>("", width, width, 3, same, false);
    auto bn = std::make_unique<BatchNorm2d>(width, 1e-4);
    bn->momentum = 0.95;  // Salman et al.'s: in training, running ← 0.05·running + 0.95·batch
    body->add("", std::move(bn));
    body->emplace<ReLU>("");
  }
  body->emplace<Conv2d>("", width, s.channels, 3, same, false);
  return std::make_unique<ResidualDenoiser>("dncnn", std::move(body));
}

void initialize_denoiser_for_training(Module& denoiser, uint64_t seed) {
  initialize_for_training(denoiser, seed);
  auto ends_with = [](const std::string& s, const std::string& t) {
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  Tensor* last = nullptr;
  for (auto& [key, tensor] : denoiser.named_tensors()) {
    if (tensor->dim() == 4) last = tensor;
    if (ends_with(key, ".bias"))
      tensor->copy_(Tensor::zeros(tensor->shape(), DType::F32));  // BatchNorm's β: 0 already
  }
  SC_CHECK(last != nullptr, "initialize_denoiser_for_training: the model has no convolution");
  last->copy_(Tensor::zeros(last->shape(), DType::F32));
}

std::unique_ptr<Classifier> denoised_network(Classifier& denoiser, Classifier& classifier) {
  SC_CHECK(is_denoiser_arch(denoiser.spec.arch), "denoised_network: '", denoiser.spec.arch,
           "' is not a denoiser network");
  SC_CHECK(!is_denoiser_arch(classifier.spec.arch), "denoised_network: '", classifier.spec.arch,
           "' is a denoiser, not a classifier");
  SC_CHECK(denoiser.spec.channels == classifier.spec.channels, "the denoiser '", denoiser.spec.arch,
           "' takes ", denoiser.spec.channels, "-channel images, the classifier '", classifier.spec.arch,
           "' ", classifier.spec.channels);
  SC_CHECK(denoiser.device() == classifier.device(), "denoised_network: the denoiser is on ",
           denoiser.device().str(), ", the classifier on ", classifier.device().str());
  ModelSpec spec = classifier.spec;
  spec.arch = denoiser.spec.arch + "+" + classifier.spec.arch;
  spec.mean.clear(), spec.std.clear();
  return std::make_unique<Classifier>(spec,
                                      std::make_unique<DenoiserThenClassifier>(*denoiser.net, classifier));
}

}  // namespace sc
