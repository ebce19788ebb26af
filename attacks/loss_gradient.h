// Gradients of attack losses with respect to the input images: the model's forward pass recorded, the loss's
// gradient with respect to the logits computed on the host in double, and the model's backward pass.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/models/registry.h"

namespace sc::attacks {

struct LossGradient {
  Tensor grad;                       // ∂loss_row/∂x_row, shaped like x, on x's device
  std::vector<double> loss;          // one per loss term (a row, or a group of rows for the smoothed loss)
  std::vector<int64_t> predictions;  // argmax of each row's logits at x
};

// The loss of a batch of logits [rows, classes] (row-major, double): fills the loss terms and d(Σ
// loss)/d(logits).
using LogitsLoss = std::function<void(const std::vector<double>& logits, int64_t rows, int64_t classes,
                                      std::vector<double>& loss, std::vector<double>& dlogits)>;

// Runs model on x ([rows, C, H, W] on the model's device) and returns the input gradient of `loss` (with
// with_gradient false: the loss and predictions only, no backward pass).
LossGradient loss_gradient(Classifier& model, const Tensor& x, const LogitsLoss& loss,
                           bool with_gradient = true);

// Expectation over transformation (Athalye et al. 2018) for a randomized model (nn/models/noisy_network.h):
// `draws` forward passes at x, each with its own randomness, and the means of their losses and (with
// with_gradient) of their input gradients, which estimate the expected loss and its gradient. The predictions
// are the last draw's, as AutoAttack judges an iterate by one draw. draws = 1 is loss_gradient.
LossGradient eot_loss_gradient(Classifier& model, const Tensor& x, const LogitsLoss& loss, int draws,
                               bool with_gradient = true);

// The logits of one forward pass at x, kept with the pass recorded for backward: the input gradients of
// several losses at the same point then cost one forward pass and one backward pass each (untargeted FAB
// needs every class's boundary at each iterate). Backward passes leave what a recorded forward saved as it
// was; the next recorded forward through the model replaces it, so take the gradients before that.
class LogitsAt {
 public:
  LogitsAt(Classifier& model, const Tensor& x, bool record = true);
  // The loss terms and predictions; with with_gradient (a recorded pass only) also the input gradient.
  LossGradient evaluate(const LogitsLoss& loss, bool with_gradient = true) const;

 private:
  Classifier& model_;
  Tensor logits_;
  std::vector<float> z32_;
  bool recorded_;
};

// Cross-entropy of each row against labels[row]: −log softmax(z)_y; ∂/∂z = softmax(z) − onehot(y).
LogitsLoss cross_entropy(const std::vector<int64_t>& labels);

// The difference of logits ratio (Croce & Hein 2020), untargeted: −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3), π
// sorting the logits in decreasing order. Invariant to shifting and scaling the logits, so it does not
// saturate as the cross-entropy does. Needs at least 3 classes.
LogitsLoss dlr(const std::vector<int64_t>& labels);

// The targeted DLR loss of APGD-T (Croce & Hein 2020): −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2), t =
// targets[row]. Positive once the target's logit passes the true label's. Needs at least 4 classes.
LogitsLoss dlr_targeted(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets);

// z_t − z_y, t = targets[row]: FAB-T's boundary function, positive once the target wins.
LogitsLoss logit_gap(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets);

// Each row's classes by decreasing logit (the lower index first on ties): the targets of APGD-T and FAB-T
// are ranks 2, 3, … of this order at the clean image.
std::vector<std::vector<int64_t>> classes_by_logit(const Tensor& logits);

// The margin z_y − max_{i≠y} z_i, which the Square Attack drives below zero (it uses no gradient; this one is
// e_y − e_other).
LogitsLoss margin(const std::vector<int64_t>& labels);

// The expectation-over-transformation loss (Athalye et al. 2018) on noisy copies: rows come in groups of m
// noisy copies of one image, and group g's loss is the mean cross-entropy (1/m) Σ_i −log softmax(z_i)_y,
// y = labels[g], whose gradient averages the copies' (∂/∂z_i = (softmax(z_i) − onehot(y))/m): the baseline
// that Salman et al. set the soft classifier's loss below against.
LogitsLoss mean_cross_entropy(const std::vector<int64_t>& labels, int64_t m);

// SmoothAdv's loss on the smoothed soft classifier (Salman et al. 2019): rows come in groups of m noisy
// copies of one image, and group g's loss is −log((1/m) Σ_i softmax(z_i)_y), y = labels[g]. With s_i =
// softmax(z_i) and p̄ = (1/m) Σ_i s_i,y: ∂/∂z_i = −s_i,y (onehot(y) − s_i) / (m·p̄).
LogitsLoss smoothed_soft_cross_entropy(const std::vector<int64_t>& labels, int64_t m);

}  // namespace sc::attacks
