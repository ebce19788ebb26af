// FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein 2020, "Minimally distorted adversarial
// examples with a fast adaptive boundary attack"), as AutoAttack runs it. A minimum-norm attack: for a target
// t, each step linearizes the boundary z_t = z_y at the iterate x (the hyperplane g·(x' − x) + z_t − z_y = 0,
// g = ∇(z_t − z_y)), projects both x and the image x₀ onto it inside the [0, 1] box (the smallest steps d and
// d₀ in the attack's norm), and moves to (x + η·d)(1 − α) + (x₀ + η·d₀)·α, α = min(‖d‖/(‖d‖ + ‖d₀‖), α_max):
// mostly from the iterate, pulled towards the image when the boundary is far. An iterate that crosses it is
// kept when it is the closest so far, and the walk steps back towards the image, x₀ + β(x − x₀). It
// succeeds where the closest crossing lies within ε.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/pgd.h"

namespace sc::attacks {

struct FabOptions {
  Norm norm = Norm::Linf;
  double eps = 8.0 / 255;
  int steps = 100;    // per target (AutoAttack: 100)
  int targets = 9;    // the classes ranked 2nd, 3rd, … at the image (AutoAttack: 9)
  int restarts = 1;   // per target; restarts after the first start from a random point of the ε/2 ball
  double eta = 1.05;  // overshoot past the linearized boundary
  double alpha_max = 0.1;
  double beta = 0.9;  // the step back towards the image after a crossing
  uint64_t seed = 0;
};

// The smallest step d (ℓ∞ or ℓ2) from t to the hyperplane w·x = b that keeps t + d in [0, 1]^n; where the
// box holds no point of the hyperplane, the step to the box's corner that gets closest. t: n values in
// [0, 1].
std::vector<double> project_onto_hyperplane(Norm norm, const std::vector<double>& t,
                                            const std::vector<double>& w, double b);

// Untargeted in its verdict (any wrong label). x: [N, C, H, W] in [0, 1]; labels: the true labels;
// image_ids: the dataset indices (random starts). Images already misclassified succeed at once. An image
// that is not fooled keeps the clean image (FAB's iterates may leave the ε-ball); a fooled one keeps its
// closest crossing. AttackResult::loss is the margin z_y − max_{i≠y} z_i at the image kept.
AttackResult fab_targeted_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const FabOptions& o);

// Untargeted FAB (AutoAttack's "plus" version runs it): the same walk, but at each iterate towards the class
// whose linearized boundary is nearest, |z_t − z_y| / ‖∇(z_t − z_y)‖_q (q the dual norm: ℓ1 for ℓ∞, ℓ2 for
// ℓ2), one forward pass and a backward pass per class. `targets` is not used; `restarts` walks from the
// image, then from random points of the ε/2 ball. The same verdict and images kept as fab_targeted_attack.
AttackResult fab_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& image_ids, const FabOptions& o);

}  // namespace sc::attacks
