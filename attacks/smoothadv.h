// SmoothAdv (Salman et al. 2019): PGD in the ℓ2 ball on the smoothed soft classifier. m noise vectors δ_i are
// drawn once per image and reused at every step; one shared perturbation Δ (from 0) takes T steps of
// Δ += (2ε/T)·∇/‖∇‖₂ on the loss −log((1/m) Σ_i softmax(f(x + Δ + δ_i))_y), then Δ ← clamp(x + Δ, 0, 1) − x
// and back into the ball ‖Δ‖₂ ≤ ε. Its DDN form (Salman et al.'s SmoothAdv_DDN, their training's default)
// walks as DDN does (attacks/ddn.h) on the same loss and noise, an iterate counting as adversarial when the
// most frequent label of its m noisy copies is wrong, and scales the smallest adversarial Δ it finds into the
// ball (zero where it finds none). The attacked images are then judged by the smoothed classifier itself
// (`smoothcuda predict`).
#pragma once
#include <cstdint>
#include <vector>

#include "nn/models/registry.h"

namespace sc::attacks {

struct SmoothAdvOptions {
  double eps = 0.5;
  int steps = 20;
  int64_t m = 32;       // noise vectors per image
  double sigma = 0.25;  // the smoothing noise
  uint64_t seed = 0;    // δ_i from (seed, image id, attack phase, i)
  // Soft: the smoothed soft classifier's loss (theirs); Eot: the copies' mean cross-entropy (the
  // expectation-over-transformation baseline they compare with; attacks/loss_gradient.h).
  enum class Loss { Soft, Eot } loss = Loss::Soft;
  // Pgd: the steps above; Ddn: DDN's walk of `steps` steps, its budget from ddn_init_norm (0: ε, as Salman et
  // al.'s training sets it) changing by ddn_gamma per step, the image rounded to 8-bit levels.
  enum class Method { Pgd, Ddn } method = Method::Pgd;
  double ddn_gamma = 0.05, ddn_init_norm = 0;
};

struct SmoothAdvResult {
  Tensor adversarial;        // [N, C, H, W] = x + Δ, on x's device
  std::vector<double> loss;  // the attack's loss at the adversarial images, with the attack's own noise
};

// The m noisy copies of every image of x with the attack's noise δ_i, image after image: [N·m, C, H, W] on
// x's device. SmoothAdv training (Salman et al.) trains on these copies of the adversarial images, reusing
// the noise the attack saw.
Tensor smoothadv_noisy_copies(const Tensor& x, const std::vector<int64_t>& image_ids,
                              const SmoothAdvOptions& o);

// The label most of each image's m copies get, the lowest on ties (predictions: n·m, image-major): how
// SmoothAdv's DDN judges an iterate.
std::vector<int64_t> majority_labels(const std::vector<int64_t>& predictions, int64_t n, int64_t m);

SmoothAdvResult smoothadv_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const SmoothAdvOptions& o);

}  // namespace sc::attacks
