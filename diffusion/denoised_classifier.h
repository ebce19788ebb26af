// Base classifiers with a denoiser in front (for certify/predict --denoiser; diffusion/image_denoiser.h):
//   DDS (Carlini et al. 2023): f(x) = argmax classifier(denoise(x)), a diffusion UNet's one-shot denoising
//   Denoised smoothing (Salman et al. 2020): the same with a network trained to denoise (DnCNN)
//   DiffSmooth (Zhang et al. 2023), local smoothing with m > 0: f(x) = argmax (1/m) Σ_j softmax(classifier(x̂
//   + η_j)), x̂ = denoise(x), η_j ~ N(0, σ_local² I) drawn once from the seed and reused for every sample and
//   image.
// Samples are drawn at the size the denoiser was trained on, or at the size set_input_size chooses (DDS on
// ImageNet runs the 256×256 UNet on the 224×224 images); x̂ is resized (bicubic, antialiased) to the
// classifier's size. The classifier runs as `engine` says (make_base_classifier): the fast engine
// (FastClassifier, FastTransformer) computes its logits, the generic one (or none) the model's own forward.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "diffusion/image_denoiser.h"
#include "engine/fast_classifier.h"
#include "engine/memory_batch.h"
#include "smoothing/base_classifier.h"

namespace sc {

class DenoisedClassifier : public BaseClassifier {
 public:
  DenoisedClassifier(std::unique_ptr<ImageDenoiser> denoiser, Classifier& classifier, int64_t local_m = 0,
                     double local_sigma = 0.0, uint64_t seed = 0,
                     std::unique_ptr<BaseClassifier> engine = nullptr);
  // DDS with a diffusion model (borrowed: it must outlive this) at noise level σ.
  DenoisedClassifier(DiffusionModel& denoiser, Classifier& classifier, double sigma, int64_t local_m = 0,
                     double local_sigma = 0.0, uint64_t seed = 0,
                     std::unique_ptr<BaseClassifier> engine = nullptr,
                     std::unique_ptr<FastDenoiser> fast_denoiser = nullptr);
  Tensor predict_labels(const Tensor& x) override;
  // DDS only: the classifier's logits of the denoised images (DiffSmooth's vote gives labels only).
  using BaseClassifier::logits;
  Tensor logits(const Tensor& x) override;
  int64_t num_classes() const override { return classifier_.spec.num_classes; }
  Shape input_shape() const override;
  // Noisy samples of H×W instead of the denoiser's training size (a UNet needs sides its downsamplings
  // divide).
  void set_input_size(int64_t height, int64_t width);
  Device device() override { return classifier_.device(); }
  // What a batch of noisy samples needs in memory on device() (engine/memory_batch.h), measured on batches of
  // 1 and 2 samples of one image (denoiser, classifier and the noisy batch together). Meant for before the
  // first batch: buffers that the fast classifier keeps from a larger batch would hide their share.
  MemoryNeed memory_need();
  // As many noisy samples as fit in half the memory available (batch_memory_budget), at most `reference`.
  int64_t auto_batch(int64_t reference, std::string& why) override;
  // Which engines run: "fast|generic classifier, " + the denoiser's engine().
  std::string engines() const;
  const FastClassifier* fast_classifier() const { return fast_; }  // null on the generic engine

 private:
  std::unique_ptr<ImageDenoiser> denoiser_;
  Classifier& classifier_;
  std::unique_ptr<BaseClassifier> engine_;
  FastClassifier* fast_ = nullptr;  // engine_ when it is the fast engine's FastClassifier
  bool fast_engine_ = false;        // engine_ runs on the fast engine (runs_on_fast_engine)
  int64_t m_;
  double local_sigma_;
  uint64_t seed_;
  int64_t height_, width_;  // the noisy samples' size
  std::vector<Tensor> broadcast_;
  Tensor classifier_logits(const Tensor& x);  // η_j repeated over the last batch shape (DiffSmooth)
  Tensor denoised(const Tensor& x);           // one-shot denoised, resized to the classifier's size
};

}  // namespace sc
