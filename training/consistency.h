// Consistency regularization (Jeong & Shin 2020, "Consistency Regularization for Certified Robustness of
// Smoothed Classifiers"): each image of a batch of B comes as m noisy copies, and the loss adds to the mean
// cross-entropy over the m·B rows, per image (mean over the B images), λ·(1/m)·Σ_i KL(p̂ ‖ s_i) + η·H(p̂), with
// s_i the softmax of copy i and p̂ their mean. The KL term pulls the copies' predictions together (the
// smoothed classifier's p̂ gets sharper and the base classifier's decision more stable under noise); the
// entropy term keeps p̂ confident. Rows are copy-major, as the reference code chunks its batch (row j·B + b is
// copy j of image b), or image-major (row b·m + j), as SmoothAdv's noisy copies come.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/loss_gradient.h"

namespace sc::training {

// labels: the B images' labels. The loss terms are per row: its cross-entropy plus its image's consistency
// term, so that their mean is the reference's loss; dz is the gradient of that mean (not of the sum).
attacks::LogitsLoss consistency_loss(const std::vector<int64_t>& labels, int64_t m, double lambda, double eta,
                                     bool image_major = false);

}  // namespace sc::training
