// What PGD and APGD share: the clean images and the current perturbations on the host, which images are still
// under attack, and the result so far. An image fooled (untargeted) or sent to its target (targeted) at an
// iterate keeps that iterate and leaves the attack (unless the options ask for every step); the others keep
// their latest iterate.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"

namespace sc::attacks {

class AttackState {
 public:
  // Checks the options and that labels and image_ids match x's images; `attack` names the errors.
  AttackState(const char* attack, const Tensor& x, const std::vector<int64_t>& labels,
              const std::vector<int64_t>& image_ids, const PgdOptions& o);
  // A new start: the images not yet fooled become active, their perturbations a uniform draw in the ball
  // (o.random_start) or zero. False when no image is left.
  bool start(int restart);
  Tensor iterate() const;  // clean + delta, on x's device
  // What the model says at the iterate, for every active image.
  void record(const LossGradient& lg);
  bool any_active() const;
  AttackResult result() const;

  const int64_t n, d;  // images, values per image
  const Ball ball;
  std::vector<float> clean, delta;
  std::vector<bool> active;

 private:
  const Tensor& x_;
  const std::vector<int64_t>& labels_;
  const std::vector<int64_t>& ids_;
  const PgdOptions& o_;
  AttackResult r_;
  std::vector<float> kept_;
};

}  // namespace sc::attacks
