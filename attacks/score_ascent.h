// Maximizes an objective of the logits over an ℓ∞ or ℓ2 ball around each image (inside [0, 1]) by projected
// gradient ascent, keeping the best iterate: the value returned never falls below the image's own. The first
// start is the image itself; further restarts start from uniform draws in the ball. This is the adversarial
// evaluation of OOD detectors (the highest confidence an OOD image reaches nearby), a PGD in the spirit of
// ProoD's monotone PGD (without its step-size schedule).
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "attacks/pgd.h"

namespace sc::attacks {

struct AscentResult {
  Tensor best;                // [N, C, H, W], the best iterate of each image, on x's device
  std::vector<double> value;  // the objective there
};

// o.targeted and o.random_start are ignored (restarts after the first start at random points).
AscentResult maximize_objective(Classifier& model, const Tensor& x, const std::vector<int64_t>& image_ids,
                                const LogitsLoss& objective, const PgdOptions& o);

// What the maximizations share (this one, and APGD's in attacks/apgd.h): the clean images and perturbations
// on the host, each start (restart 0: the image itself; later ones uniform in the ball), and each image's
// best iterate and value over every start.
class AscentTracker {
 public:
  // Checks the options and that the ids match x's images; `what` names the errors.
  AscentTracker(const char* what, const Tensor& x, const std::vector<int64_t>& image_ids,
                const PgdOptions& o);
  void start(int restart);
  Tensor iterate() const;               // clean + delta, on x's device
  void record(const LossGradient& lg);  // keeps the iterates that beat their image's best
  AscentResult result() const;

  const int64_t n, d;  // images, values per image
  const Ball ball;
  std::vector<float> clean, delta;

 private:
  const Tensor& x_;
  const std::vector<int64_t>& ids_;
  const PgdOptions& o_;
  std::vector<float> best_;
  std::vector<double> value_;
};

}  // namespace sc::attacks
