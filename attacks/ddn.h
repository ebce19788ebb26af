// DDN, Decoupled Direction and Norm (Rony et al. 2019, "Decoupling direction and norm for efficient
// gradient-based L2 adversarial attacks and defenses"), the ℓ2 minimum-norm attack Salman et al.'s SmoothAdv
// code also runs. Each image keeps a norm budget ε_k (from init_norm): each step moves the perturbation δ
// along the normalized cross-entropy gradient by a step α_k that anneals from 1 to 0.01 on a cosine
// (α_k = 0.01 + 0.99·(1 + cos(π(k + 1)/K))/2), shrinks ε_k by (1 − γ) when the iterate is adversarial and
// grows it by (1 + γ) when not (never past the largest possible norm ‖max(x, 1 − x)‖₂), rescales δ to norm
// ε_k, and rounds x + δ to 256 levels inside [0, 1]. The smallest adversarial δ seen is the answer.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "attacks/pgd.h"

namespace sc::attacks {

struct DdnOptions {
  double eps = 0.5;  // ddn_attack: it succeeds where its smallest adversarial perturbation is within ε (ℓ2)
  int steps = 100;
  double gamma = 0.05;     // the norm budget's factor per step
  double init_norm = 1.0;  // the first norm budget
  bool quantize = true;    // x + δ to the 8-bit levels k/255 after each step
  int eot = 1;             // ddn_attack: draws per gradient on a randomized model (PgdOptions::eot)
};

// What the walk needs from the model at the iterates [n, C, H, W]: for each image whether it is adversarial
// and, when asked, the gradient of its loss with respect to it (n·d values).
struct DdnLook {
  std::vector<bool> adversarial;
  std::vector<float> grad;
};
using DdnOracle = std::function<DdnLook(const Tensor& iterates, bool with_gradient)>;

// The walk itself (o.eps and o.eot are not read), shared with SmoothAdv's DDN (attacks/smoothadv.h): each
// image's smallest adversarial perturbation seen (`best`, n·d values; zero where none was found).
struct DdnWalk {
  std::vector<float> best;
  std::vector<double> best_norm;
  std::vector<bool> found;
};
DdnWalk ddn_walk(const Tensor& x, const DdnOptions& o, const DdnOracle& look);

// Untargeted. x: [N, C, H, W] in [0, 1]; labels: the true labels. Every image takes every step; the
// iterates are judged before each step and after the last. A fooled image keeps its smallest adversarial
// perturbation when it lies within ε, as FAB keeps its closest crossing; any other keeps the clean image.
// AttackResult::loss is the cross-entropy at the image kept.
AttackResult ddn_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const DdnOptions& o);

}  // namespace sc::attacks
