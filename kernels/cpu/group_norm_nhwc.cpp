#include "kernels/group_norm_nhwc.h"

#include <cmath>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {
namespace {

template <typename T>
void group_norm_nhwc_typed(const Tensor& x, int64_t G, const Tensor& gamma, const Tensor& beta, double eps,
                           bool silu, Tensor& y) {
  const int64_t N = x.size(0), P = x.size(1) * x.size(2), C = x.size(3), cg = C / G;
  const T* xp = x.data<T>();
  const float *ga = gamma.data<float>(), *be = beta.data<float>();
  T* yp = y.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      const T* xn = xp + n * P * C + g * cg;
      double sum = 0, sq = 0;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t j = 0; j < cg; ++j) sum += to_f32(xn[p * C + j]);
      const double mean = sum / static_cast<double>(P * cg);
      for (int64_t p = 0; p < P; ++p)
        for (int64_t j = 0; j < cg; ++j) {
          const double d = to_f32(xn[p * C + j]) - mean;
          sq += d * d;
        }
      const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(P * cg) + eps);
      for (int64_t p = 0; p < P; ++p)
        for (int64_t j = 0; j < cg; ++j) {
          const int64_t c = g * cg + j;
          double v = (to_f32(xn[p * C + j]) - mean) * rstd * ga[c] + be[c];
          if (silu) v = v / (1.0 + std::exp(-v));
          yp[(n * P + p) * C + c] = from_f32<T>(static_cast<float>(v));
        }
    }
}

}  // namespace

void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y) {
  visit_float_storage(x.dtype(), "group_norm_nhwc", [&](auto t) {
    group_norm_nhwc_typed<decltype(t)>(x, groups, gamma, beta, eps, silu, y);
  });
}

}  // namespace sc::cpu
