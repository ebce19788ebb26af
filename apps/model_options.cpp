#include "apps/model_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "diffusion/denoised_classifier.h"
#include "io/dataset_presets.h"
#include "nn/error.h"
#include "nn/models/denoisers.h"
#include "nn/models/model_file.h"
#include "nn/parse_number.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc::app {

std::map<std::string, std::string> parse_flags(const std::string& text, const std::string& what) {
  std::map<std::string, std::string> flags;
  std::string last;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      SC_CHECK(!last.empty() && !item.empty(), what, ": expected key=value, got '", item, "'");
      flags[last] += "," + item;
    } else {
      SC_CHECK(eq > 0, what, ": expected key=value, got '", item, "'");
      last = item.substr(0, eq);
      flags[last] = item.substr(eq + 1);
    }
    start = end + 1;
  }
  return flags;
}

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
      .option("input-shape", "", "C,H,W (overrides the preset)")
      .option("arch-flags", "",
              "architecture flags of --arch, key=value,... (e.g. hidden=256; vit: "
              "patch=4,dim=64,depth=6,heads=4)");
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
  o.flags = parse_flags(args.get("arch-flags"), "--arch-flags");
  for (float v : parse_floats(args.get("input-shape"), "--input-shape"))
    o.input_shape.push_back(static_cast<int64_t>(v));
  return o;
}

void add_engine_options(Args& args) {
  args.option("engine", "auto",
              "fast (fused NHWC plan; vision transformers: the fast transformer), generic (layer by layer, "
              "NCHW), "
              "or auto (fast when the model lowers; transformers on CUDA only)")
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

std::unique_ptr<Classifier> load_classifier(const Args& args, Device device,
                                            const std::string& dataset_default) {
  auto model = load_any_model(args.get("MODEL"), device, model_options(args, dataset_default));
  SC_CHECK(!is_denoiser_arch(model->spec.arch), "MODEL '", args.get("MODEL"), "' is the denoiser ",
           model->spec.arch, ", not a classifier; a denoiser goes in front of one with --denoiser");
  return model;
}

namespace {
// The fast engine's UNet when the options allow it, else null; says which engine denoises.
std::unique_ptr<FastDenoiser> fast_denoiser_option(const Args& args, DiffusionModel& denoiser, double sigma,
                                                   Device device) {
  std::string note;
  auto fast = make_fast_denoiser(denoiser, sigma, args.get("engine"), chosen_precision(args, device), note);
  std::fprintf(stderr, "%s on %s\n", note.c_str(), device.str().c_str());
  return fast;
}
}  // namespace

std::unique_ptr<ImageDenoiser> make_one_shot_denoiser(const Args& args, DiffusionModel& denoiser,
                                                      double sigma, Device device) {
  return std::make_unique<OneShotDenoiser>(denoiser, sigma,
                                           fast_denoiser_option(args, denoiser, sigma, device));
}

namespace {

// What --denoiser PATH holds: a diffusion model or a denoiser network (one of the two is set), on the CPU.
struct DenoiserFile {
  std::unique_ptr<DiffusionModel> diffusion;
  std::unique_ptr<Classifier> network;
};

DenoiserFile read_denoiser_file(const std::string& path, const std::string& dataset) {
  const std::string what = "--denoiser '" + path + "'";
  DenoiserFile f;
  if (is_torch_checkpoint_path(path)) {
    const std::string arch = torchfile::root_string(torchfile::read_checkpoint(path), "arch");
    SC_CHECK(is_denoiser_arch(arch), what,
             ": a PyTorch checkpoint here must name a denoiser architecture in its "
             "'arch' entry, as Salman et al.'s do (cifar_dncnn, cifar_dncnn_wide, imagenet_dncnn, memnet, "
             "imagenet_memnet); this one "
             "names '",
             arch,
             "'. Convert other checkpoints first: `smoothcuda convert CHECKPOINT OUT --arch cifar_dncnn` "
             "(or a diffusion UNet's with --arch iddpm_unet/adm_unet and its flags)");
    ConvertOptions options;
    if (io::dataset_preset(dataset)) options.dataset = dataset;
    f.network = load_any_model(path, Device::cpu(), options);
  } else {
    const io::Safetensors file = io::read_safetensors(path);
    const auto arch = file.metadata.find("arch");
    if (arch != file.metadata.end() && is_diffusion_arch(arch->second)) {
      f.diffusion = std::make_unique<DiffusionModel>(diffusion_model_from_safetensors(file, what));
      return f;
    }
    f.network = model_from_safetensors(file, what);
  }
  SC_CHECK(is_denoiser_arch(f.network->spec.arch), what, " holds the classifier '", f.network->spec.arch,
           "', not a denoiser (a diffusion model file, or a denoiser network such as cifar_dncnn)");
  return f;
}

}  // namespace

std::unique_ptr<ImageDenoiser> load_denoiser(const Args& args, const std::string& path, Device device,
                                             double sigma, const std::string& dataset) {
  DenoiserFile f = read_denoiser_file(path, dataset);
  if (f.diffusion) {
    f.diffusion->unet->to(device);
    auto fast = fast_denoiser_option(args, *f.diffusion, sigma, device);
    return std::make_unique<OneShotDenoiser>(std::move(f.diffusion), sigma, std::move(fast));
  }
  f.network->to(device);
  std::fprintf(stderr, "network denoiser %s (Salman et al.'s denoised smoothing) on %s\n",
               f.network->spec.arch.c_str(), device.str().c_str());
  return std::make_unique<NetworkDenoiser>(std::move(f.network));
}

std::unique_ptr<Classifier> load_denoiser_network(const std::string& path, Device device,
                                                  const std::string& dataset, const std::string& command) {
  DenoiserFile f = read_denoiser_file(path, dataset);
  SC_CHECK(!f.diffusion, command, ": --denoiser '", path,
           "' is a diffusion model, and attacks need the gradient through the denoiser, which the diffusion "
           "UNet does not compute here; a denoiser network (Salman et al.'s DnCNN or MemNet) does");
  f.network->to(device);
  return std::move(f.network);
}

std::unique_ptr<BaseClassifier> make_denoised_classifier(const Args& args,
                                                         std::unique_ptr<ImageDenoiser> denoiser,
                                                         Classifier& model, Device device,
                                                         const Shape& image_shape, int64_t local_m,
                                                         double local_sigma, uint64_t seed) {
  SC_CHECK(image_shape.size() == 3, "make_denoised_classifier: image shape must be [C, H, W]");
  const int64_t trained = denoiser->trained_size(), H = image_shape[1], W = image_shape[2];
  auto dds = std::make_unique<DenoisedClassifier>(std::move(denoiser), model, local_m, local_sigma, seed,
                                                  make_classifier(args, model, device));
  if (H != trained || W != trained) {
    dds->set_input_size(H, W);
    std::fprintf(stderr, "the denoiser (trained at %lldx%lld) runs on the %lldx%lld images\n",
                 static_cast<long long>(trained), static_cast<long long>(trained), static_cast<long long>(H),
                 static_cast<long long>(W));
  }
  return dds;
}

}  // namespace sc::app
