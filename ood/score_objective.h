// The OOD scores (scores.h) as objectives an attack can climb: each row's score and its gradient with
// respect to the logits, for the adversarial evaluation of a detector (OOD images pushed towards high
// confidence). With c = argmax l and s = softmax(l):
//   msp       ∂/∂l_j = s_c (δ_jc − s_j)
//   maxlogit  ∂/∂l_j = δ_jc
//   energy    ∂/∂l_j = softmax(l/T)_j
#pragma once
#include "attacks/loss_gradient.h"
#include "ood/scores.h"

namespace sc::ood {

attacks::LogitsLoss score_objective(Score s, double temperature = 1.0);

}  // namespace sc::ood
