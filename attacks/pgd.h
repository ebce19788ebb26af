// Projected gradient descent (Madry et al. 2018) on the cross-entropy, or on the DLR loss, in the ℓ∞ or ℓ2
// ball of radius ε around each image, within [0, 1]; FGSM (Goodfellow et al. 2015) is its one step of size ε
// from the image itself. Untargeted attacks ascend the loss of the true label and succeed when the prediction
// changes; targeted ones descend the loss of the target and succeed when the model predicts it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attacks/loss_gradient.h"
#include "nn/models/registry.h"

namespace sc::attacks {

enum class Norm { Linf, L2 };
Norm parse_norm(const std::string& s);  // "linf" | "l2"
const char* norm_name(Norm n);

struct PgdOptions {
  Norm norm = Norm::Linf;
  double eps = 8.0 / 255;
  int steps = 10;
  double step_size = 2.0 / 255;
  bool random_start = true;  // uniform in the ℓ∞ ball, or uniform in the ℓ2 ball
  int restarts = 1;          // further starts only for the images not yet fooled
  bool targeted = false;
  uint64_t seed = 0;  // random starts: draws from (seed, image id, restart), however the images are batched
  // true: an image leaves the attack at its first successful iterate (evaluation); false: every image takes
  // all steps and keeps its last iterate (adversarial training's inner maximization, Madry et al.).
  bool stop_at_success = true;
  // The loss the attack climbs: the cross-entropy, or the DLR loss (untargeted only;
  // attacks/loss_gradient.h).
  enum class Loss { CrossEntropy, Dlr } loss = Loss::CrossEntropy;
  // Draws per gradient for a randomized model (expectation over transformation, eot_loss_gradient): each
  // step follows the mean gradient of `eot` forward and backward passes (AutoAttack's rand version: 20).
  int eot = 1;
};

// The loss `o` names, for the true labels (or the targets).
LogitsLoss attack_loss(const PgdOptions& o, const std::vector<int64_t>& labels);
PgdOptions fgsm_options(Norm norm, double eps);  // one step of ε, no random start (ℓ2: the FGM step ε·g/‖g‖₂)

struct AttackResult {
  Tensor adversarial;                // [N, C, H, W], on x's device
  std::vector<int64_t> predictions;  // the model's label for each adversarial image
  std::vector<bool> success;         // fooled (untargeted) or hit the target (targeted)
  std::vector<double> loss;          // the cross-entropy at the adversarial image
};

// x: [N, C, H, W] in [0, 1] on the model's device; labels: the true labels (or the targets); image_ids: the
// dataset indices (for the random starts). Each image keeps its first successful iterate; an image never
// fooled keeps the last iterate of its last start.
AttackResult pgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& image_ids, const PgdOptions& o);

// Checks ε, steps, step size and restarts, naming the option.
void check_options(const PgdOptions& o);

}  // namespace sc::attacks
