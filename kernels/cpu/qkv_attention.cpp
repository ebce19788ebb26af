#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/qkv_attention.h"

namespace sc::cpu {

void qkv_attention(const Tensor& qkv, int64_t heads, Tensor& out) {
  const int64_t B = qkv.size(0), T = qkv.size(2), d = qkv.size(1) / (3 * heads);
  const float scale = static_cast<float>(1.0 / std::sqrt(std::sqrt(static_cast<double>(d))));
  const float* in = qkv.data<float>();
  float* op = out.data<float>();
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      const float* q = in + (b * heads + h) * 3 * d * T;
      const float *k = q + d * T, *v = k + d * T;
      float* o = op + (b * heads + h) * d * T;
      std::vector<double> w(static_cast<size_t>(T));
      for (int64_t t = 0; t < T; ++t) {
        double m = -INFINITY;
        for (int64_t s = 0; s < T; ++s) {
          double acc = 0;
          for (int64_t c = 0; c < d; ++c) acc += static_cast<double>(q[c * T + t] * scale) * (k[c * T + s] * scale);
          w[static_cast<size_t>(s)] = acc;
          m = std::max(m, acc);
        }
        double sum = 0;
        for (auto& x : w) sum += (x = std::exp(x - m));
        for (int64_t c = 0; c < d; ++c) {
          double acc = 0;
          for (int64_t s = 0; s < T; ++s) acc += w[static_cast<size_t>(s)] * v[c * T + s];
          o[c * T + t] = static_cast<float>(acc / sum);
        }
      }
    }
}

}  // namespace sc::cpu
