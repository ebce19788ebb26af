// DISTRO's certified OOD score, as its code computes it (Franco et al. 2023; metrics.py,
// compute_certify_score), for comparison with its published tables. For an image with Cohen's certificate
// (class c_A, radius R; smoothing/smooth.h) and clean logits z, the score at radius r is
//   softmax(z/T)_{c_A} + √(2/π)·R   where r ≤ R,   and 0 where r > R or CERTIFY abstained,
// the same for in- and out-of-distribution images. It bounds nothing (the bound that holds is
// ood/certified_confidence.h's): kept only to reproduce DISTRO's "certified" AUROC.
#pragma once
#include <vector>

#include "nn/tensor.h"
#include "smoothing/smooth.h"

namespace sc::ood {

// [radius][image]: the score of each image (a certificate and a row of logits [images, K]) at each radius.
std::vector<std::vector<double>> distro_certified_scores(const std::vector<Certificate>& certificates,
                                                         const Tensor& logits,
                                                         const std::vector<double>& radii,
                                                         double temperature);

}  // namespace sc::ood
