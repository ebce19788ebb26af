#include "nn/models/denoisers.h"

#include <cmath>

#include "kernels/concat.h"
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
  // x − body(x) ∈ [l − u_body, u − l_body]: the two terms bounded apart (loose where they move together).
  Interval bounds(const Interval& x) override {
    const Interval b = body_->bounds(x);
    return {difference(x.lower, b.upper), difference(x.upper, b.lower)};
  }
  void collect(const std::string& prefix, NamedTensors& out) override {
    body_->collect(join_key(prefix, key_), out);
  }
  std::string name() const override { return "ResidualDenoiser"; }

 private:
  std::string key_;
  std::unique_ptr<Module> body_;
};

// BatchNorm → ReLU → convolution without bias, padded to keep the size: MemNet's unit, pre-activation style.
// Children named "bn", "relu", "conv", as in Salman et al.'s BNReLUConv.
std::unique_ptr<Sequential> bn_relu_conv(int64_t in, int64_t out, int64_t kernel) {
  auto unit = std::make_unique<Sequential>();
  unit->emplace<BatchNorm2d>("bn", in);
  unit->emplace<ReLU>("relu");
  unit->emplace<Conv2d>("conv", in, out, kernel, Conv2dParams::square(1, kernel / 2), false);
  return unit;
}

// x + relu_conv2(relu_conv1(x)).
class MemNetResidualBlock : public Module {
 public:
  explicit MemNetResidualBlock(int64_t width) {
    body_.add("relu_conv1", bn_relu_conv(width, width, 3));
    body_.add("relu_conv2", bn_relu_conv(width, width, 3));
  }
  Tensor forward(const Tensor& x) override { return ops::add(x, body_.forward(x)); }
  Tensor backward(const Tensor& dy) override { return ops::add(dy, body_.backward(dy)); }
  Interval bounds(const Interval& x) override { return add_bounds(x, body_.bounds(x)); }
  void collect(const std::string& prefix, NamedTensors& out) override { body_.collect(prefix, out); }
  std::string name() const override { return "MemNetResidualBlock"; }

 private:
  Sequential body_;
};

// MemNet (Tai et al. 2017) as Salman et al. build it: f₀ = feature_extractor(x); memory block b (0-based)
// runs its residual blocks r₁ … r_R in a chain from its input (the last of f₀, g₀ … g_{b−1}), and its gate (a
// 1×1 BNReLUConv) maps [r₁ … r_R, f₀, g₀ … g_{b−1}] (channels concatenated in that order) to g_b; the output
// is x + reconstructor(g_{B−1}). The long-term memory makes the graph a DAG, so backward runs it explicitly.
class MemNet : public Module {
 public:
  MemNet(int64_t channels, int64_t width, int64_t memory_blocks, int64_t residual_blocks)
      : width_(width),
        feature_extractor_(bn_relu_conv(channels, width, 3)),
        reconstructor_(bn_relu_conv(width, channels, 3)) {
    for (int64_t b = 0; b < memory_blocks; ++b) {
      MemoryBlock block;
      for (int64_t r = 0; r < residual_blocks; ++r)
        block.recursive.push_back(std::make_unique<MemNetResidualBlock>(width));
      block.gate = bn_relu_conv((residual_blocks + b + 1) * width, width, 1);
      blocks_.push_back(std::move(block));
    }
  }

  Tensor forward(const Tensor& x) override {
    std::vector<Tensor> memory{feature_extractor_->forward(x)};  // f₀, g₀, g₁, …
    for (MemoryBlock& block : blocks_) {
      std::vector<Tensor> parts;
      Tensor h = memory.back();
      for (auto& unit : block.recursive) parts.push_back(h = unit->forward(h));
      parts.insert(parts.end(), memory.begin(), memory.end());
      memory.push_back(block.gate->forward(ops::concat(parts, 1)));
    }
    return ops::add(x, reconstructor_->forward(memory.back()));
  }

  // The same graph on boxes: a concatenation joins the lower bounds and the upper bounds channel-wise.
  Interval bounds(const Interval& x) override {
    std::vector<Interval> memory{feature_extractor_->bounds(x)};
    for (MemoryBlock& block : blocks_) {
      std::vector<Interval> parts;
      Interval h = memory.back();
      for (auto& unit : block.recursive) parts.push_back(h = unit->bounds(h));
      parts.insert(parts.end(), memory.begin(), memory.end());
      std::vector<Tensor> lower, upper;
      for (const Interval& p : parts) lower.push_back(p.lower), upper.push_back(p.upper);
      memory.push_back(block.gate->bounds({ops::concat(lower, 1), ops::concat(upper, 1)}));
    }
    return add_bounds(x, reconstructor_->bounds(memory.back()));
  }

  // d_memory[k] gathers the gradient of memory entry k from every later use: it is complete when block k
  // (the one that made it) is reached going backwards.
  Tensor backward(const Tensor& dy) override {
    std::vector<Tensor> d_memory(blocks_.size() + 1);
    const auto accumulate = [](Tensor& into, const Tensor& g) {
      into = into.defined() ? ops::add(into, g) : g;
    };
    d_memory.back() = reconstructor_->backward(dy);
    for (size_t b = blocks_.size(); b-- > 0;) {
      MemoryBlock& block = blocks_[b];
      const Tensor d_parts = block.gate->backward(d_memory[b + 1]);
      const auto part = [&](size_t i) {
        return d_parts.slice(1, static_cast<int64_t>(i) * width_, static_cast<int64_t>(i + 1) * width_)
            .contiguous();
      };
      const size_t units = block.recursive.size();
      for (size_t k = 0; k <= b; ++k) accumulate(d_memory[k], part(units + k));
      Tensor d_chain = part(units - 1);  // the gradient of the last residual block's output
      for (size_t r = units; r-- > 0;) {
        const Tensor d_in = block.recursive[r]->backward(d_chain);
        if (r > 0)
          d_chain = ops::add(part(r - 1), d_in);
        else
          accumulate(d_memory[b], d_in);
      }
    }
    return ops::add(dy, feature_extractor_->backward(d_memory[0]));
  }

  void collect(const std::string& prefix, NamedTensors& out) override {
    feature_extractor_->collect(join_key(prefix, "feature_extractor"), out);
    reconstructor_->collect(join_key(prefix, "reconstructor"), out);
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const std::string block = join_key(prefix, "dense_memory." + std::to_string(b));
      for (size_t r = 0; r < blocks_[b].recursive.size(); ++r)
        blocks_[b].recursive[r]->collect(join_key(block, "recursive_unit." + std::to_string(r)), out);
      blocks_[b].gate->collect(join_key(block, "gate_unit"), out);
    }
  }
  std::string name() const override { return "MemNet"; }

 private:
  struct MemoryBlock {
    std::vector<std::unique_ptr<MemNetResidualBlock>> recursive;
    std::unique_ptr<Sequential> gate;
  };
  int64_t width_;
  std::unique_ptr<Sequential> feature_extractor_, reconstructor_;
  std::vector<MemoryBlock> blocks_;
};

// The denoiser network, then the classifier; both borrowed. Their tensors are named under "denoiser." and
// "classifier.", so that device() and to() see them.
class DenoiserThenClassifier : public Module {
 public:
  DenoiserThenClassifier(Module& denoiser, Classifier& classifier)
      : denoiser_(denoiser), classifier_(classifier) {}
  Tensor forward(const Tensor& x) override { return classifier_.forward(denoiser_.forward(x)); }
  Tensor backward(const Tensor& dy) override { return denoiser_.backward(classifier_.backward(dy)); }
  Interval bounds(const Interval& x) override { return classifier_.bounds(denoiser_.bounds(x)); }
  void collect(const std::string& prefix, NamedTensors& out) override {
    denoiser_.collect(join_key(prefix, "denoiser"), out);
    classifier_.collect(join_key(prefix, "classifier"), out);
  }
  std::string name() const override { return "DenoiserThenClassifier"; }

 private:
  Module& denoiser_;
  Classifier& classifier_;
};

}  // namespace

bool is_denoiser_arch(const std::string& arch) {
  return arch == "cifar_dncnn" || arch == "cifar_dncnn_wide" || arch == "imagenet_dncnn" || arch == "dncnn" ||
         is_memnet_arch(arch) || arch == "conv_autoencoder";
}

bool is_memnet_arch(const std::string& arch) {
  return arch == "memnet" || arch == "imagenet_memnet";
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

std::unique_ptr<Module> build_memnet(const ModelSpec& s) {
  const int64_t width = s.flag_int("width", 64), memory_blocks = s.flag_int("memory_blocks", 3),
                residual_blocks = s.flag_int("residual_blocks", 6);
  SC_CHECK(width >= 1 && width <= 4096, "model flag width must be in [1, 4096], got ", width);
  SC_CHECK(memory_blocks >= 1 && memory_blocks <= 100, "model flag memory_blocks must be in [1, 100], got ",
           memory_blocks);
  SC_CHECK(residual_blocks >= 1 && residual_blocks <= 100,
           "model flag residual_blocks must be in [1, 100], got ", residual_blocks);
  return std::make_unique<MemNet>(s.channels, width, memory_blocks, residual_blocks);
}

std::unique_ptr<Module> build_conv_autoencoder(const ModelSpec& s) {
  const int64_t w = s.flag_int("width", 32);
  SC_CHECK(w >= 1 && w <= 4096, "model flag width must be in [1, 4096], got ", w);
  SC_CHECK(s.height % 4 == 0 && s.width % 4 == 0,
           "conv_autoencoder halves the image twice: its sides must be "
           "multiples of 4, the spec says ",
           s.height, "x", s.width);
  const auto conv = [](int64_t in, int64_t out, int64_t stride) {
    return std::make_unique<Conv2d>(in, out, 3, Conv2dParams::square(stride, 1));
  };
  auto encoder = std::make_unique<Sequential>(), decoder = std::make_unique<Sequential>();
  encoder->add("0", conv(s.channels, w, 1)).emplace<ReLU>("1");
  encoder->add("2", conv(w, 2 * w, 2)).emplace<ReLU>("3");
  encoder->add("4", conv(2 * w, 2 * w, 2)).emplace<ReLU>("5");
  decoder->emplace<Upsample2x>("0").add("1", conv(2 * w, w, 1)).emplace<ReLU>("2");
  decoder->emplace<Upsample2x>("3").add("4", conv(w, s.channels, 1));
  auto net = std::make_unique<Sequential>();
  net->add("encoder", std::move(encoder)).add("decoder", std::move(decoder));
  return net;
}

void initialize_denoiser_for_training(Classifier& denoiser, uint64_t seed) {
  initialize_for_training(denoiser, seed);
  // Salman et al.'s MemNet keeps its initialization, and so does the autoencoder (it has no identity path).
  if (is_memnet_arch(denoiser.spec.arch) || denoiser.spec.arch == "conv_autoencoder") return;
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
