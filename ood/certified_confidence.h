// Certified bounds on a smoothed confidence. For a confidence h(x) ∈ [0, 1] (the maximum softmax probability)
// and its smoothing p̄(x) = E[h(x + ε)], ε ~ N(0, σ²I), the map x ↦ σ·Φ⁻¹(p̄(x)) is 1-Lipschitz (Salman et al.
// 2019), so for every x' with ‖x' − x‖₂ ≤ r:
//   Φ(Φ⁻¹(p̄(x)) − r/σ) ≤ p̄(x') ≤ Φ(Φ⁻¹(p̄(x)) + r/σ).
// p̄(x) is estimated by the mean of n samples, bounded by Hoeffding's inequality at level 1 − α on each side:
// mean ± √(ln(1/α) / (2n)), clipped to [0, 1]. An OOD input's upper bound at radius r is then the highest
// confidence any perturbation within r can reach (with probability ≥ 1 − α over the samples).
#pragma once
#include <cstdint>

namespace sc::ood {

struct ConfidenceInterval {
  double mean = 0, lower = 0, upper = 0;
};

// The one-sided Hoeffding bounds, each at level 1 − α, of the mean of n samples in [0, 1].
ConfidenceInterval hoeffding_interval(double mean, int64_t n, double alpha);

// The bounds on p̄ within an ℓ2 ball of radius r around x, from bounds on p̄(x).
double certified_upper(double upper, double radius, double sigma);
double certified_lower(double lower, double radius, double sigma);

}  // namespace sc::ood
