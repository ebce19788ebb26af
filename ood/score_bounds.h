// Upper bounds on the OOD scores (scores.h) over a box of logits lower ≤ l ≤ upper, e.g. from interval bound
// propagation of an input box (nn/interval.h): the highest score any input in the box can get, ProoD's
// guaranteed confidence for a classifier's own scores. Each score rises with its class's logit and falls with
// the others' (msp), or rises with every logit (maxlogit, energy):
//   msp       max_c 1 / (1 + Σ_{j≠c} exp(lower_j − upper_c))
//   maxlogit  max_c upper_c
//   energy    T·log Σ_j exp(upper_j / T)
#pragma once
#include <vector>

#include "ood/scores.h"

namespace sc::ood {

// lower, upper: float32 [n, K] on the CPU, lower ≤ upper elementwise. A row with a non-finite bound (an
// overflowed propagation) gets the score's supremum: 1 for msp, the largest double for the others.
std::vector<double> score_upper_bounds(const Tensor& lower, const Tensor& upper, Score s,
                                       double temperature = 1.0);

}  // namespace sc::ood
