#include <cmath>

#include "kernels/timestep_embedding.h"

namespace sc::cpu {

void timestep_embedding(const Tensor& t, double max_period, Tensor& y) {
  const int64_t N = y.size(0), dim = y.size(1), half = dim / 2;
  for (int64_t n = 0; n < N; ++n) {
    float* row = y.data<float>() + n * dim;
    for (int64_t i = 0; i < half; ++i) {
      // The reference forms the frequencies and the arguments in float32 (−ln(P)·i / half, exp, t·f); at large t
      // the cosine is sensitive to the last bit of the argument, so the same float steps are taken here.
      const float e = static_cast<float>(-std::log(max_period)) * static_cast<float>(i) / static_cast<float>(half);
      const float f = static_cast<float>(std::exp(static_cast<double>(e)));
      const float a = t.data<float>()[n] * f;
      row[i] = static_cast<float>(std::cos(static_cast<double>(a)));
      row[half + i] = static_cast<float>(std::sin(static_cast<double>(a)));
    }
    if (dim % 2) row[dim - 1] = 0.0f;
  }
}

}  // namespace sc::cpu
