// The smoothed classifier g(x) = argmax_c P(f(x + ε) = c), ε ~ N(0, σ²I) (Cohen, Rosenfeld & Kolter 2019):
// Monte Carlo class counts of the base classifier f over noisy copies, and the CERTIFY and PREDICT procedures.
// Noisy copies are generated on the base classifier's device in batches, counts accumulate there, and only the
// class counts come back to the host. The noise of sample s of image i is noise(seed, i, phase, s, ·), so any run
// is reproducible and every sample can be regenerated.
#pragma once
#include <functional>
#include <vector>

#include "smoothing/base_classifier.h"
#include "smoothing/noise.h"

namespace sc {

struct Certificate {
  int64_t prediction = -1;  // −1: abstain
  double radius = 0.0;      // certified ℓ2 radius (0 when abstaining)
  int64_t count = 0;        // nA: samples of the predicted class in the estimation phase
  double p_lower = 0.0;     // one-sided Clopper–Pearson lower bound on pA
};

class Smooth {
 public:
  Smooth(BaseClassifier& base, double sigma, int64_t batch, uint64_t seed);

  // Counts of f's labels over `num` noisy copies of x ([C, H, W], any device) in the given noise phase.
  std::vector<int64_t> sample_counts(const Tensor& x, int64_t image, noise::Phase phase, int64_t num);
  // The same for several images at once: when num is small, samples of several images share a batch. Each image's
  // samples are the same as in sample_counts (noise depends only on seed, image, phase and sample index).
  std::vector<std::vector<int64_t>> sample_counts(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                                                  noise::Phase phase, int64_t num);
  // The mean over `num` noisy copies of each image of a score per row of f's logits [rows, K] (float32, CPU):
  // with the maximum softmax probability, the Monte Carlo estimate of the smoothed soft classifier's
  // confidence E[max softmax(f(x + ε))] (Salman et al. 2019). Needs a base classifier with logits.
  using RowScores = std::function<std::vector<double>(const Tensor& logits)>;
  std::vector<double> mean_scores(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                                  noise::Phase phase, int64_t num, const RowScores& score);
  // CERTIFY: select cA with n0 samples, estimate with n fresh ones, abstain when pA_lower < 1/2.
  Certificate certify(const Tensor& x, int64_t image, int64_t n0, int64_t n, double alpha);
  // CERTIFY for several images, sharing batches between them (identical certificates to one image at a time).
  std::vector<Certificate> certify(const std::vector<Tensor>& xs, const std::vector<int64_t>& images, int64_t n0,
                                   int64_t n, double alpha);
  // PREDICT: the top class over n samples unless the two-sided binomial test of the top two counts has
  // p-value > alpha (abstain, −1).
  int64_t predict(const Tensor& x, int64_t image, int64_t n, double alpha);
  std::vector<int64_t> predict(const std::vector<Tensor>& xs, const std::vector<int64_t>& images, int64_t n,
                               double alpha);

  int64_t samples_drawn() const { return samples_; }  // total noisy samples classified so far

 private:
  // Calls `run` on batches of up to `batch` noisy samples: `num` samples of each image in turn, images
  // sharing a batch when num is small.
  void for_each_batch(const std::vector<Tensor>& xs, const std::vector<int64_t>& images, noise::Phase phase,
                      int64_t num, const std::function<void(const NoisyInput&)>& run);
  BaseClassifier& base_;
  double sigma_;
  int64_t batch_;
  uint64_t seed_;
  int64_t samples_ = 0;
};

// The index of the largest count, the lowest index on ties.
int64_t argmax_count(const std::vector<int64_t>& counts);

}  // namespace sc
