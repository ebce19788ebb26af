#include "ood/scores.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"

namespace sc::ood {

Score parse_score(const std::string& name) {
  if (name == "msp") return Score::MaxSoftmax;
  if (name == "maxlogit") return Score::MaxLogit;
  if (name == "energy") return Score::Energy;
  SC_FAIL("unknown OOD score '", name, "' (expected msp, maxlogit or energy)");
}

std::string score_name(Score s) {
  switch (s) {
    case Score::MaxSoftmax:
      return "msp";
    case Score::MaxLogit:
      return "maxlogit";
    case Score::Energy:
      return "energy";
  }
  SC_FAIL("score_name: unknown score");
}

std::vector<Score> all_scores() {
  return {Score::MaxSoftmax, Score::MaxLogit, Score::Energy};
}

std::vector<double> scores(const Tensor& logits, Score s, double temperature) {
  SC_CHECK(logits.dim() == 2 && logits.size(1) >= 1 && logits.dtype() == DType::F32 &&
               logits.device().is_cpu() && logits.is_contiguous(),
           "OOD scores: logits must be contiguous float32 [n, K] on the CPU, got ", logits.describe());
  SC_CHECK(temperature > 0 && std::isfinite(temperature),
           "OOD scores: the temperature must be positive, got ", temperature);
  const int64_t n = logits.size(0), K = logits.size(1);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float* l = logits.data<float>() + i * K;
    double top = l[0];
    for (int64_t k = 0; k < K; ++k) {
      SC_CHECK(std::isfinite(l[k]), "OOD scores: logit ", k, " of row ", i, " is ", l[k]);
      top = std::max(top, static_cast<double>(l[k]));
    }
    // Σ exp((l_k − max)/T) ∈ [1, K]: the max term is 1, the rest cannot overflow.
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp((l[k] - top) / (s == Score::Energy ? temperature : 1.0));
    switch (s) {
      case Score::MaxSoftmax:
        out[static_cast<size_t>(i)] = 1.0 / sum;
        break;
      case Score::MaxLogit:
        out[static_cast<size_t>(i)] = top;
        break;
      case Score::Energy:
        out[static_cast<size_t>(i)] = top + temperature * std::log(sum);
        break;
    }
  }
  return out;
}

std::vector<double> reconstruction_scores(const Tensor& x, const Tensor& reconstruction) {
  SC_CHECK(x.shape() == reconstruction.shape() && x.dim() >= 2, "reconstruction_scores: images ",
           x.describe(), " and reconstruction ", reconstruction.describe(), " must have one shape");
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  const std::vector<float> a = x.cpu().to_float_vector(), r = reconstruction.cpu().to_float_vector();
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int64_t e = i * d; e < (i + 1) * d; ++e) {
      const double diff = static_cast<double>(r[static_cast<size_t>(e)]) - a[static_cast<size_t>(e)];
      sum += diff * diff;
    }
    SC_CHECK(std::isfinite(sum), "reconstruction_scores: image ", i, "'s reconstruction is not finite");
    out[static_cast<size_t>(i)] = -sum / static_cast<double>(d);
  }
  return out;
}

}  // namespace sc::ood
