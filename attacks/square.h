// The Square Attack (Andriushchenko, Croce, Flammarion, Hein 2020): a random search that needs only the
// model's logits, no gradient, so it finds what gradient masking hides from PGD and APGD (AutoAttack runs it
// last). Each image keeps its best point so far x̂ (the lowest margin z_y − max_{i≠y} z_i) and at every query
// tries x̂ changed in one square window, chosen at random, of side s = round(√(p·h·w)); p falls from p_init
// by halves on AutoAttack's schedule (at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 ten-thousandths of
// the budget). The change is kept when the margin falls or the image is misclassified; the image leaves the
// search once misclassified.
// - ℓ∞: x̂ starts at x + ε·(a random sign per channel and column: vertical stripes); a window takes
//   x ± ε with one random sign per channel.
// - ℓ2: x̂ starts at x plus ε·(a grid of ±η patterns, h/5 wide, normalized); a window takes ±η (two
//   rectangles of opposite sign, weights 1/k² in rings around their centres) plus its old content, rescaled
//   so that the mass of a second random window, which is cleared, and the budget left under ε move into it;
//   the whole perturbation is then rescaled to norm ε.
// Every iterate is clipped to [0, 1]. The draws come from (seed, image id) alone, so batching changes
// nothing. Windows lie anywhere in the image (AutoAttack's draw leaves out the last row and column of
// positions).
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/pgd.h"

namespace sc::attacks {

struct SquareOptions {
  Norm norm = Norm::Linf;
  double eps = 8.0 / 255;
  int queries = 5000;   // tries after the starting point (AutoAttack: 5000)
  double p_init = 0.8;  // the share of the image the first windows cover (AutoAttack: 0.8)
  uint64_t seed = 0;
};

// The share of the image a window covers at query `it` of `queries` (AutoAttack's p_selection, rescaled to
// the budget).
double square_share(double p_init, int it, int queries);

// Untargeted. x: [N, C, H, W] in [0, 1]; labels: the true labels; image_ids: the dataset indices (the draws).
// AttackResult::loss is the margin at the image kept; a fooled image keeps its first misclassified point.
AttackResult square_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& image_ids, const SquareOptions& o);

}  // namespace sc::attacks
