#include "diffusion/denoised_classifier.h"

#include "kernels/argmax.h"
#include "kernels/concat.h"
#include "kernels/elementwise.h"
#include "kernels/gaussian_noise.h"
#include "kernels/resize_bicubic.h"
#include "kernels/softmax.h"
#include "smoothing/noise.h"

namespace sc {

DenoisedClassifier::DenoisedClassifier(std::unique_ptr<ImageDenoiser> d, Classifier& c, int64_t m,
                                       double local_sigma, uint64_t seed,
                                       std::unique_ptr<BaseClassifier> engine)
    : denoiser_(std::move(d)),
      classifier_(c),
      engine_(std::move(engine)),
      m_(m),
      local_sigma_(local_sigma),
      seed_(seed),
      height_(denoiser_->trained_size()),
      width_(denoiser_->trained_size()) {
  fast_ = dynamic_cast<FastClassifier*>(engine_.get());
  fast_engine_ = engine_ && runs_on_fast_engine(*engine_);
  SC_CHECK(denoiser_->channels() == c.spec.channels, "denoiser has ", denoiser_->channels(),
           " channels, the classifier ", c.spec.channels);
  SC_CHECK(m >= 0 && (m == 0 || local_sigma > 0),
           "local smoothing needs m >= 1 and a positive local noise level");
}

DenoisedClassifier::DenoisedClassifier(DiffusionModel& d, Classifier& c, double sigma, int64_t m,
                                       double local_sigma, uint64_t seed,
                                       std::unique_ptr<BaseClassifier> engine,
                                       std::unique_ptr<FastDenoiser> fast_denoiser)
    : DenoisedClassifier(std::make_unique<OneShotDenoiser>(d, sigma, std::move(fast_denoiser)), c, m,
                         local_sigma, seed, std::move(engine)) {}

// The denoised image is resized to the classifier's size if needed.
Shape DenoisedClassifier::input_shape() const {
  return {classifier_.spec.channels, height_, width_};
}

void DenoisedClassifier::set_input_size(int64_t height, int64_t width) {
  denoiser_->check_size(height, width);
  height_ = height, width_ = width;
}

MemoryNeed DenoisedClassifier::memory_need() {
  const Device d = device();
  const Shape s = input_shape();
  const Tensor image = Tensor::full({1, s[0], s[1], s[2]}, 0.5f, d);
  broadcast_.clear();  // remade for each batch shape: the measurement makes its own
  return measure_memory_need(d, [&](int64_t rows) {
    NoisyInput in;
    in.images = image;
    in.spans = {SampleSpan{rows, 0, 0, 0}};
    in.sigma = 0.25f;  // any level: the memory does not depend on it
    in.seed = seed_;
    Tensor counts = Tensor::zeros({1, num_classes()}, DType::I64, d);
    accumulate_noisy_counts(in, counts);
  });
}

int64_t DenoisedClassifier::auto_batch(int64_t reference, std::string& why) {
  const MemoryNeed need = memory_need();
  const int64_t budget = batch_memory_budget(device());
  why = "measured " + describe(need) + "; half the free memory: " + format_bytes(budget);
  return rows_within(need, budget, reference);
}

std::string DenoisedClassifier::engines() const {
  return std::string(fast_engine_ ? "fast" : "generic") + " classifier, " + denoiser_->engine();
}

// The fast engine's logits buffer is reused by its next call; every use below consumes it before that.
Tensor DenoisedClassifier::classifier_logits(const Tensor& x) {
  return fast_engine_ ? engine_->logits(x) : classifier_.forward(x);
}

Tensor DenoisedClassifier::denoised(const Tensor& x) {
  Tensor clean = denoiser_->denoise(x);
  if (clean.size(2) != classifier_.spec.height || clean.size(3) != classifier_.spec.width)
    clean = ops::resize_bicubic(clean, classifier_.spec.height, classifier_.spec.width);
  return clean;
}

Tensor DenoisedClassifier::logits(const Tensor& x) {
  SC_CHECK(m_ == 0, "DiffSmooth's local smoothing (--m) votes: it gives labels only, no logits");
  return classifier_logits(denoised(x));
}

Tensor DenoisedClassifier::predict_labels(const Tensor& x) {
  const Tensor clean = denoised(x);
  if (m_ == 0) return ops::argmax(classifier_logits(clean));
  // Local smoothing: the same m noise vectors η_j for every image (noise phase kLocal, image 0, sample j),
  // drawn once and broadcast over the batch once per batch shape, not regenerated for every batch.
  if (broadcast_.empty() || broadcast_[0].shape() != clean.shape() ||
      broadcast_[0].device() != clean.device()) {
    const int64_t B = clean.size(0), per = clean.numel() / B;
    const Tensor etas =
        ops::add_gaussian_noise(Tensor::zeros({per}, DType::F32, clean.device()), m_,
                                static_cast<float>(local_sigma_), NoiseKey{seed_, 0, noise::kLocal}, 0);
    broadcast_.clear();
    for (int64_t j = 0; j < m_; ++j) {
      const Tensor eta = etas.slice(0, j, j + 1);
      broadcast_.push_back(
          ops::concat(std::vector<Tensor>(static_cast<size_t>(B), eta), 0).reshape(clean.shape()));
    }
  }
  Tensor mean;
  for (int64_t j = 0; j < m_; ++j) {
    const Tensor p = ops::softmax(classifier_logits(ops::add(clean, broadcast_[static_cast<size_t>(j)])));
    mean = mean.defined() ? ops::add(mean, p) : p;
  }
  return ops::argmax(mean);  // the 1/m factor does not change the argmax
}

}  // namespace sc
