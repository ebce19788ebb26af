// What randomized smoothing needs of a base classifier f: hard labels for a batch of (noisy) images in [0,1],
// and, where f has them, its logits (for smoothing soft scores).
// A plain classifier is the usual one; a denoiser in front of it is another (diffusion denoised smoothing).
#pragma once
#include <string>

#include "kernels/noisy_input_conv.h"
#include "nn/models/registry.h"

namespace sc {

class BaseClassifier {
 public:
  virtual ~BaseClassifier() = default;
  // x: [B, C, H, W] on device(); returns int64 [B] labels on device().
  virtual Tensor predict_labels(const Tensor& x) = 0;
  // Labels of noisy samples given as clean images + sample spans (kernels/noisy_input_conv.h; mean/std
  // unused). The default materializes the noisy batch (add_gaussian_noise per span) and calls predict_labels;
  // a classifier that makes the noise inside its first layer overrides it. Both give the same samples.
  virtual Tensor predict_noisy_labels(const NoisyInput& in);
  // Counts the labels of those samples: counts[span.slot, label] += 1 (int64 [S, K] on device()). The default
  // takes predict_noisy_labels and a histogram per span; the fast engine counts inside its head.
  virtual void accumulate_noisy_counts(const NoisyInput& in, Tensor& counts);
  // Logits [B, K] float32 on device() of a batch x [B, C, H, W], for soft scores (the confidence a smoothed
  // soft classifier averages, OOD scores). The default says that this classifier gives labels only.
  virtual Tensor logits(const Tensor& x);
  // The logits of noisy samples: the default materializes the batch, as predict_noisy_labels does.
  virtual Tensor logits(const NoisyInput& in);
  virtual bool fuses_noise() const { return false; }
  virtual int64_t num_classes() const = 0;
  virtual Shape input_shape() const = 0;  // [C, H, W]
  virtual Device device() = 0;
  // Samples per batch for `--batch auto`, where `reference` is the reference code's batch: by default
  // `reference`; the fast engine fills the device (at least `reference`), a denoiser in front sizes the batch
  // by the memory it measures (at most `reference`). `why` says how it was chosen (empty: the reference).
  virtual int64_t auto_batch(int64_t reference, std::string& why) {
    why.clear();
    return reference;
  }
};

// argmax of a Classifier's logits.
class ArgmaxClassifier : public BaseClassifier {
 public:
  explicit ArgmaxClassifier(Classifier& model) : model_(model) {}
  Tensor predict_labels(const Tensor& x) override;
  using BaseClassifier::logits;
  Tensor logits(const Tensor& x) override { return model_.forward(x); }
  int64_t num_classes() const override { return model_.spec.num_classes; }
  Shape input_shape() const override { return {model_.spec.channels, model_.spec.height, model_.spec.width}; }
  Device device() override { return model_.device(); }

 private:
  Classifier& model_;
};

}  // namespace sc
