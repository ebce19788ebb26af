// The model-loading options shared by every command that takes a MODEL (a .safetensors model file or a
// PyTorch checkpoint converted in memory): --arch, --dataset, --mean, --std, --num-classes, --input-shape.
#pragma once
#include "apps/args.h"
#include "diffusion/denoiser.h"
#include "engine/fast_classifier.h"
#include "weights_tools/convert.h"

namespace sc::app {

void add_model_options(Args& args);
// `dataset_default` names the preset used when --dataset is not given (the command's DATASET, if a preset).
ConvertOptions model_options(const Args& args, const std::string& dataset_default = "");
std::vector<float> parse_floats(const std::string& text, const std::string& what);

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
// DDS / DiffSmooth: the classifier (make_classifier) behind the denoiser, the denoiser on the fast engine
// when the options allow it (prints which engine denoises). The denoiser runs on the images' own size
// `image_shape` [C, H, W], as the reference runs its 256×256 ImageNet UNet on 224×224 images (says so when
// that differs from the UNet's training size).
std::unique_ptr<BaseClassifier> make_denoised_classifier(const Args& args, DiffusionModel& denoiser,
                                                         Classifier& model, Device device, double sigma,
                                                         const Shape& image_shape, int64_t local_m = 0,
                                                         double local_sigma = 0.0, uint64_t seed = 0);

}  // namespace sc::app
