// Out-of-distribution scores of a classifier's logits l [n, K], higher meaning "more in-distribution":
//   msp       max_k softmax(l)_k                    (maximum softmax probability; Hendrycks & Gimpel 2017)
//   maxlogit  max_k l_k                             (Hendrycks et al. 2022)
//   energy    T·log Σ_k exp(l_k / T)                (the negative free energy; Liu et al. 2020)
// computed in double from the float32 logits, without overflow for any finite logits.
#pragma once
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace sc::ood {

enum class Score { MaxSoftmax, MaxLogit, Energy };

Score parse_score(const std::string& name);  // msp, maxlogit, energy
std::string score_name(Score s);
std::vector<Score> all_scores();

// One score per row of logits (float32 [n, K], K ≥ 1, on the CPU); temperature > 0 (energy only).
std::vector<double> scores(const Tensor& logits, Score s, double temperature = 1.0);

// The OOD lab's autoencoder score: −(1/d)·‖r − x‖² per image, r an autoencoder's reconstruction of x (both
// [n, …] float32, same shape, any device), summed in double; higher = reconstructed better = more
// in-distribution.
std::vector<double> reconstruction_scores(const Tensor& x, const Tensor& reconstruction);

}  // namespace sc::ood
