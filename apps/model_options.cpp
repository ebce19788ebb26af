#include "apps/model_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "diffusion/denoised_classifier.h"
#include "io/dataset_presets.h"
#include "nn/error.h"
#include "nn/parse_number.h"

namespace sc::app {

std::vector<float> parse_floats(const std::string& text, const std::string& what) {
  const auto v = parse_double_list(text);
  std::vector<float> out;
  // Finite as a float: 1e39 is a double but no float.
  const bool finite =
      v && std::all_of(v->begin(), v->end(), [](double x) { return std::isfinite(static_cast<float>(x)); });
  SC_CHECK(finite, what, ": '", text, "' is not a comma-separated list of numbers");
  for (double x : *v) out.push_back(static_cast<float>(x));
  return out;
}

void add_model_options(Args& args) {
  args.option("arch", "", "architecture of a PyTorch checkpoint (default: the checkpoint's own 'arch')")
      .option("dataset", "",
              "preset for input shape, classes and normalization: cifar10, cifar100, imagenet, mnist, "
              "fashion-mnist")
      .option("mean", "", "normalization means a,b,c (overrides the preset)")
      .option("std", "", "normalization standard deviations a,b,c")
      .option("num-classes", "", "number of classes (overrides the preset)")
      .option("input-shape", "", "C,H,W (overrides the preset)");
}

ConvertOptions model_options(const Args& args, const std::string& dataset_default) {
  ConvertOptions o;
  o.arch = args.get("arch");
  o.dataset = args.get("dataset");
  if (o.dataset.empty() && io::dataset_preset(dataset_default)) o.dataset = dataset_default;
  o.mean = parse_floats(args.get("mean"), "--mean");
  o.std = parse_floats(args.get("std"), "--std");
  SC_CHECK(o.mean.size() == o.std.size(), "--mean and --std need the same number of values");
  if (!args.get("num-classes").empty()) o.num_classes = args.get_int("num-classes", 1, 1 << 24);
  for (float v : parse_floats(args.get("input-shape"), "--input-shape"))
    o.input_shape.push_back(static_cast<int64_t>(v));
  return o;
}

void add_engine_options(Args& args) {
  args.option("engine", "auto",
              "fast (fused NHWC plan), generic (layer by layer, NCHW), or auto (fast when the model lowers)")
      .option("precision", "auto",
              "fp32, tf32, bf16, fp16 or auto (fp16 on CUDA, fp32 on the CPU; see docs/PRECISION.md)");
}

Precision chosen_precision(const Args& args, Device device) {
  const std::string& p = args.get("precision");
  return p == "auto" ? default_precision(device, args.get("engine") != "generic") : parse_precision(p);
}

std::unique_ptr<BaseClassifier> make_classifier(const Args& args, Classifier& model, Device device) {
  std::string note;
  const std::string& p = args.get("precision");
  auto base = make_base_classifier(model, args.get("engine"),
                                   p == "auto" ? std::nullopt : std::optional(parse_precision(p)), note);
  std::fprintf(stderr, "%s on %s\n", note.c_str(), device.str().c_str());
  return base;
}

int64_t batch_option(const Args& args, BaseClassifier& base) {
  const std::string& text = args.get("batch");
  if (text != "auto") {
    SC_CHECK(!text.empty() && text.find_first_not_of("0123456789") == std::string::npos,
             "--batch: expected a number of noisy samples or auto, got '", text, "'");
    return args.get_int("batch", 1, 1 << 24);
  }
  constexpr int64_t kReferenceBatch = 1000;  // Cohen et al.'s default
  std::string why;
  const int64_t batch = base.auto_batch(kReferenceBatch, why);
  std::fprintf(stderr, "--batch auto: %lld noisy samples per forward pass%s%s%s\n",
               static_cast<long long>(batch), why.empty() ? "" : " (", why.c_str(), why.empty() ? "" : ")");
  return batch;
}

std::unique_ptr<BaseClassifier> make_denoised_classifier(const Args& args, DiffusionModel& denoiser,
                                                         Classifier& model, Device device, double sigma,
                                                         const Shape& image_shape, int64_t local_m,
                                                         double local_sigma, uint64_t seed) {
  auto classifier = make_classifier(args, model, device);
  std::string note;
  auto fast = make_fast_denoiser(denoiser, sigma, args.get("engine"), chosen_precision(args, device), note);
  std::fprintf(stderr, "%s on %s\n", note.c_str(), device.str().c_str());
  auto dds = std::make_unique<DenoisedClassifier>(denoiser, model, sigma, local_m, local_sigma, seed,
                                                  std::move(classifier), std::move(fast));
  SC_CHECK(image_shape.size() == 3, "make_denoised_classifier: image shape must be [C, H, W]");
  const int64_t trained = denoiser.unet->config().image_size, H = image_shape[1], W = image_shape[2];
  if (H != trained || W != trained) {
    dds->set_input_size(H, W);
    std::fprintf(stderr, "the denoiser (trained at %lldx%lld) runs on the %lldx%lld images\n",
                 static_cast<long long>(trained), static_cast<long long>(trained), static_cast<long long>(H),
                 static_cast<long long>(W));
  }
  return dds;
}

}  // namespace sc::app
