// Monotone PGD (Meinke et al.; the adversarial OOD evaluation of ProoD and DISTRO): gradient ascent with
// momentum on an objective of the logits that never accepts a step that lowers it. Per image, from a start
// δ₀ (projected onto the ball and the [0, 1] box):
//   v ← μ·v + ∇f(x + δ),  δ ← P(δ + η·v)
// with the raw gradient (DISTRO evaluates with normalize_grad off), μ = 0.9 and a rate η per image. A step
// whose value falls below the last accepted one is undone (δ and v go back to the last accepted ones; the
// gradient at the rejected point still enters the next v) and halves η; an accepted step multiplies η by 1.1
// (from the second evaluation on). DISTRO runs it for 200 steps at η₀ = 0.1, ε = 0.01 (ℓ∞), from three
// starts: the de-contrasting one (every pixel moved towards the image's mean by up to ε), uniform noise in
// the ball and N(0, (10⁻⁴)²) noise.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/score_ascent.h"

namespace sc::attacks {

enum class MonotoneStart { Decontrast, Uniform, Normal };

struct MonotonePgdOptions {
  Norm norm = Norm::Linf;
  double eps = 0.01;
  int steps = 200;
  double step_size = 0.1;  // η₀, each image's first rate
  double momentum = 0.9;
  double decay = 0.5, gain = 1.1;  // η's factor after a rejected and after an accepted step
  double normal_sigma = 1e-4;
  std::vector<MonotoneStart> starts = {MonotoneStart::Decontrast, MonotoneStart::Uniform,
                                       MonotoneStart::Normal};
  uint64_t seed = 0;  // the noise starts' draws come from (seed, image id, start)
};

// The start δ₀ of one image x (d values), before projection: Decontrast: clamp(mean(x) − x, −ε, ε); Uniform:
// a uniform draw from the ball; Normal: N(0, σ²) per value.
std::vector<float> monotone_start(MonotoneStart kind, const MonotonePgdOptions& o, const float* x, int64_t d,
                                  uint64_t image_id, int start);

// Each image's best iterate over the image itself and every start and step (the accepted values only rise,
// so it is the last accepted one of its best start), so the value never falls below the image's own.
AscentResult monotone_pgd_maximize(Classifier& model, const Tensor& x, const std::vector<int64_t>& image_ids,
                                   const LogitsLoss& objective, const MonotonePgdOptions& o);

}  // namespace sc::attacks
