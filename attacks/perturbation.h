// Perturbations in an ℓ∞ or ℓ2 ball of radius ε, kept inside the [0, 1] image box: the pieces PGD and
// SmoothAdv share. Vectors are one image's d values on the host.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/pgd.h"

namespace sc::attacks {

struct Ball {
  Norm norm;
  double eps;
};

// A uniform draw from the ball (ℓ∞: each coordinate uniform in [−ε, ε]; ℓ2: a Gaussian direction scaled by
// ε·u^(1/d)), from (seed, image, restart) alone.
void random_start(const Ball& b, uint64_t seed, uint64_t image, int restart, float* delta, int64_t d);
// delta += step · (ℓ∞: sign(g); ℓ2: g/‖g‖₂). A zero gradient leaves delta as it is.
void ascent_step(const Ball& b, const float* g, double step, float* delta, int64_t d);
// Back into the ball: ℓ∞ clamps each coordinate to [−ε, ε]; ℓ2 scales delta down to norm ε.
void project(const Ball& b, float* delta, int64_t d);
// delta ← clamp(x + delta, 0, 1) − x.
void clip_to_box(const float* x, float* delta, int64_t d);
// clean + delta (all images, host vectors) as a tensor of `shape` on `device`: the next iterate to evaluate.
Tensor perturbed_images(const std::vector<float>& clean, const std::vector<float>& delta, const Shape& shape,
                        Device device);
double l2_norm(const float* v, int64_t d);
double linf_norm(const float* v, int64_t d);

}  // namespace sc::attacks
