// MACER (Zhai et al. 2020, "MACER: Attack-free and Scalable Robust Training via Maximizing Certified
// Radius"): each image of a batch of B comes as m noisy copies (σ = the training noise), and the loss is, per
// image (mean over the B images), the cross-entropy of the smoothed soft classifier plus λ × a hinge on its
// certified radius:
//   −log(p̄_y + 1e-10)  +  λ·(σ/2)·max(0, γ − (Φ⁻¹(q̄_c0) − Φ⁻¹(q̄_c1))),
// p̄ = (1/m) Σ_i softmax(z_i) and q̄ = (1/m) Σ_i softmax(β·z_i) (β an inverse temperature, so that q̄ is close
// to the hard smoothed classifier's vote shares), c0 and c1 q̄'s two largest classes. The radius term counts
// only for images whose q̄ ranks the label first (c0 = y), whose Φ⁻¹ values are finite, and whose radius
// 2/σ·R = Φ⁻¹(q̄_c0) − Φ⁻¹(q̄_c1) is at most γ (the reference code's filter: beyond γ the hinge is flat).
// Rows are copy-major, as the trainer lays out its copies: row j·B + b is copy j of image b.
#pragma once
#include <cstdint>
#include <vector>

#include "attacks/loss_gradient.h"

namespace sc::training {

struct MacerParams {
  double sigma = 0.25;  // the training noise's σ, which converts Φ⁻¹ differences into a radius
  double lambda = 12;   // weight of the radius term (MACER's CIFAR-10 setting at σ = 0.25 and 0.5)
  double gamma = 8;     // hinge: radii with Φ⁻¹ difference beyond γ no longer count
  double beta = 16;     // inverse temperature of the radius term's softmax
};

// labels: the B images' labels. Each row's loss term is its image's loss, so that their mean over rows is
// the mean over images (the reference's loss); dz is the gradient of that mean. Computed in double.
attacks::LogitsLoss macer_loss(const std::vector<int64_t>& labels, int64_t m, const MacerParams& params);

}  // namespace sc::training
