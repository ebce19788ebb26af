// The model-loading options shared by every command that takes a MODEL (a .safetensors model file or a
// PyTorch checkpoint converted in memory): --arch, --dataset, --mean, --std, --num-classes, --input-shape.
#pragma once
#include "apps/args.h"
#include "diffusion/image_denoiser.h"
#include "engine/fast_classifier.h"
#include "weights_tools/convert.h"

namespace sc::app {

void add_model_options(Args& args);
// `dataset_default` names the preset used when --dataset is not given (the command's DATASET, if a preset).
ConvertOptions model_options(const Args& args, const std::string& dataset_default = "");
std::vector<float> parse_floats(const std::string& text, const std::string& what);
// Architecture flags "key=value,key=value,...", where an item without '=' continues the previous value as a
// list
// ("attention_resolutions=32,16,8,num_head_channels=64"); `what` names the option in errors.
std::map<std::string, std::string> parse_flags(const std::string& text, const std::string& what);
// MODEL (a model file or a checkpoint, with the options above) on `device`; fails on a denoiser network,
// which belongs after --denoiser.
std::unique_ptr<Classifier> load_classifier(const Args& args, Device device,
                                            const std::string& dataset_default);

// --engine auto|fast|generic and --precision auto|fp32|tf32|bf16|fp16 (certify, predict, eval).
void add_engine_options(Args& args);
// The precision --precision names; auto is fp32 on the CPU (reduced precisions only emulate there) and the
// documented default on CUDA (kCudaDefaultPrecision).
Precision chosen_precision(const Args& args, Device device);
// The base classifier for `model` as the options ask; prints which engine runs to stderr.
std::unique_ptr<BaseClassifier> make_classifier(const Args& args, Classifier& model, Device device);
// --batch: a number of noisy samples per forward pass, or auto (BaseClassifier::auto_batch from Cohen et
// al.'s 1000: the fast engine's filling batch, at least 1000; a denoiser's batch that fits in memory, at most
// 1000; 1000 for anything else); says what it chose.
int64_t batch_option(const Args& args, BaseClassifier& base);
// A diffusion model as a one-shot denoiser at σ, on the fast engine when the options allow it (prints which
// engine denoises). Borrows `denoiser`.
std::unique_ptr<ImageDenoiser> make_one_shot_denoiser(const Args& args, DiffusionModel& denoiser,
                                                      double sigma, Device device);
// --denoiser PATH: a diffusion model file (DDS, make_one_shot_denoiser), or a denoiser network (Salman et
// al.'s DnCNN: its model file, or a PyTorch checkpoint that names its arch, with `dataset`'s image shape when
// it is a preset). Fails on a classifier.
std::unique_ptr<ImageDenoiser> load_denoiser(const Args& args, const std::string& path, Device device,
                                             double sigma, const std::string& dataset);
// --denoiser PATH for `command`'s attacks, which need its backward pass: a denoiser network (as above) on
// `device`; fails on a diffusion model file (the UNet has no backward pass) and on a classifier.
std::unique_ptr<Classifier> load_denoiser_network(const std::string& path, Device device,
                                                  const std::string& dataset, const std::string& command);
// DDS / DiffSmooth / denoised smoothing: the classifier (make_classifier) behind `denoiser`, run on the
// images' own size `image_shape` [C, H, W], as the reference runs its 256×256 ImageNet UNet on 224×224 images
// (says so when that differs from the denoiser's training size).
std::unique_ptr<BaseClassifier> make_denoised_classifier(const Args& args,
                                                         std::unique_ptr<ImageDenoiser> denoiser,
                                                         Classifier& model, Device device,
                                                         const Shape& image_shape, int64_t local_m = 0,
                                                         double local_sigma = 0.0, uint64_t seed = 0);

}  // namespace sc::app
