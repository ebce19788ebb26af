// APGD-CE (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
// parameter-free attacks"): PGD on the cross-entropy with momentum and a step size that adapts by itself. Per
// image: η starts at 2ε; each step takes z = P(x_k + η·step(∇)) and x_{k+1} = P(x_k + α(z − x_k) +
// (1 − α)(x_k − x_{k−1})) with α = 0.75 (plain PGD on the first step). At the checkpoints w_j = ⌈p_j·N⌉
// (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)) η halves, and the walk restarts from
// the best point so far, when fewer than 75% of the steps since the last checkpoint raised the loss, or when
// neither η nor the best loss changed since then. P projects onto the ball and the [0, 1] box.
#pragma once
#include <vector>

#include "attacks/pgd.h"
#include "attacks/score_ascent.h"

namespace sc::attacks {

// The checkpoints w_1 < w_2 < … < N of an N-step run (w_0 = 0 left out).
std::vector<int> apgd_checkpoints(int steps);

// o.step_size and o.targeted are not used (APGD is untargeted, its step adapts); o.loss picks APGD-CE or
// APGD-DLR (the two untargeted runs of AutoAttack); o.random_start chooses between a uniform draw in the ball
// and the image itself for each restart's start. Success and the kept iterate as pgd_attack: an image keeps
// its first misclassified iterate.
AttackResult apgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& image_ids, const PgdOptions& o);

// APGD-T (AutoAttack's targeted APGD): for each of the `targets` classes ranked highest after the first by
// the logits at the clean image, o.restarts APGD walks on the targeted DLR loss towards that class, each only
// for the images not yet misclassified. Success, as for apgd_attack, is any label but the true one (the
// target only steers the walk). Needs at least 4 classes; targets beyond classes − 1 are not run.
AttackResult apgd_targeted_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                  const std::vector<int64_t>& image_ids, const PgdOptions& o, int targets);

// APGD's walk on any objective of the logits (ProoD's and DISTRO's adversarial OOD evaluation runs APGD on
// the confidence): every image takes every step, and each keeps its best iterate over all starts (the first
// start the image itself, later ones uniform in the ball), so the value never falls below the image's own.
// o.step_size, o.targeted and o.random_start are not used.
AscentResult apgd_maximize_objective(Classifier& model, const Tensor& x,
                                     const std::vector<int64_t>& image_ids, const LogitsLoss& objective,
                                     const PgdOptions& o);

}  // namespace sc::attacks
