#include "nn/models/registry.h"

#include "nn/models/denoisers.h"
#include "nn/models/resnets.h"
#include "nn/models/small_nets.h"
#include "nn/models/vit.h"
#include "nn/parse_number.h"

namespace sc {

namespace {
// Every architecture by name (a table rather than self-registration, which a static library would drop).
const std::map<std::string, ModelBuilder>& registry() {
  static const std::map<std::string, ModelBuilder> r = {
      {"lenet", build_lenet},
      {"mlp", build_mlp},
      {"linear", build_linear},
      {"prood_xs", [](const ModelSpec& s) { return build_prood_cnn(s, 64); }},
      {"prood_s", [](const ModelSpec& s) { return build_prood_cnn(s, 128); }},
      {"cifar_resnet20", [](const ModelSpec& s) { return build_cifar_resnet(s, 20); }},
      {"cifar_resnet110", [](const ModelSpec& s) { return build_cifar_resnet(s, 110); }},
      {"aka_resnet20", [](const ModelSpec& s) { return build_aka_resnet(s, 20); }},
      {"aka_resnet32", [](const ModelSpec& s) { return build_aka_resnet(s, 32); }},
      {"aka_resnet44", [](const ModelSpec& s) { return build_aka_resnet(s, 44); }},
      {"aka_resnet56", [](const ModelSpec& s) { return build_aka_resnet(s, 56); }},
      {"aka_resnet110", [](const ModelSpec& s) { return build_aka_resnet(s, 110); }},
      {"aka_resnet1202", [](const ModelSpec& s) { return build_aka_resnet(s, 1202); }},
      {"resnet18", [](const ModelSpec& s) { return build_torchvision_resnet(s, 18); }},
      {"resnet50", [](const ModelSpec& s) { return build_torchvision_resnet(s, 50); }},
      {"wrn28_10", [](const ModelSpec& s) { return build_wide_resnet(s, 28, 10); }},
      {"wrn40_2", [](const ModelSpec& s) { return build_wide_resnet(s, 40, 2); }},
      {"cifar_dncnn", [](const ModelSpec& s) { return build_dncnn(s, 64); }},
      {"cifar_dncnn_wide", [](const ModelSpec& s) { return build_dncnn(s, 128); }},
      {"imagenet_dncnn", [](const ModelSpec& s) { return build_dncnn(s, 64); }},
      {"dncnn", [](const ModelSpec& s) { return build_dncnn(s, 64); }},
      {"memnet", build_memnet},
      {"imagenet_memnet", build_memnet},
      {"conv_autoencoder", build_conv_autoencoder},
      {"vit", build_vit},
      {"beit", build_beit},
      {"timm_vit", build_timm_vit},
  };
  return r;
}
}  // namespace

int64_t ModelSpec::flag_int(const std::string& key, int64_t fallback) const {
  auto it = flags.find(key);
  if (it == flags.end()) return fallback;
  const auto v = parse_int64(it->second);
  SC_CHECK(v, "model flag ", key, "='", it->second, "' is not an integer");
  return *v;
}

Classifier::Classifier(ModelSpec s, std::unique_ptr<Module> n) : spec(std::move(s)), net(std::move(n)) {
  if (!spec.mean.empty()) {
    SC_CHECK(static_cast<int64_t>(spec.mean.size()) == spec.channels, "model '", spec.arch, "': ",
             spec.mean.size(), " normalization means for ", spec.channels, " input channels");
    normalize = std::make_unique<Normalize>(spec.mean, spec.std);
  }
}

Tensor Classifier::forward(const Tensor& x) {
  SC_CHECK(x.dim() == 4 && x.size(1) == spec.channels && x.size(2) == spec.height && x.size(3) == spec.width,
           "model '", spec.arch, "' expects inputs [N, ", spec.channels, ", ", spec.height, ", ", spec.width,
           "], got ", x.describe());
  return net->forward(normalize ? normalize->forward(x) : x);
}

Interval Classifier::bounds(const Interval& x) {
  SC_CHECK(x.lower.dim() == 4 && x.lower.size(1) == spec.channels && x.lower.size(2) == spec.height &&
               x.lower.size(3) == spec.width && x.upper.shape() == x.lower.shape(),
           "model '", spec.arch, "' bounds boxes of inputs [N, ", spec.channels, ", ", spec.height, ", ",
           spec.width, "], got ", x.lower.describe(), " and ", x.upper.describe());
  return net->bounds(normalize ? normalize->bounds(x) : x);
}

Interval Classifier::bounds_backward(const Interval& dy) {
  const Interval g = net->bounds_backward(dy);
  return normalize ? normalize->bounds_backward(g) : g;
}

Tensor Classifier::backward(const Tensor& dy) {
  const Tensor g = net->backward(dy);
  return normalize ? normalize->backward(g) : g;
}

void Classifier::collect(const std::string& prefix, NamedTensors& out) {
  if (normalize) normalize->collect(prefix, out);
  net->collect(prefix, out);
}

std::vector<std::string> model_archs() {
  std::vector<std::string> v;
  for (const auto& [k, b] : registry()) v.push_back(k);
  return v;
}

std::unique_ptr<Classifier> build_model(const ModelSpec& spec) {
  auto it = registry().find(spec.arch);
  if (it == registry().end()) {
    std::string known;
    for (const auto& a : model_archs()) known += (known.empty() ? "" : ", ") + a;
    SC_FAIL("unknown architecture '", spec.arch, "' (known: ", known, ")");
  }
  SC_CHECK(spec.channels > 0 && spec.height > 0 && spec.width > 0, "model '", spec.arch,
           "': the input shape must be positive");
  if (is_denoiser_arch(spec.arch))
    SC_CHECK(spec.num_classes == 0 && spec.mean.empty(), "model '", spec.arch,
             "' is a denoiser: it has no classes and takes the [0, 1] images unnormalized");
  else
    SC_CHECK(spec.num_classes > 0, "model '", spec.arch, "': the number of classes must be positive");
  return std::make_unique<Classifier>(spec, it->second(spec));
}

}  // namespace sc
