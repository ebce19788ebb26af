#include "kernels/layer_norm.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {

namespace {
struct RowStats {
  double mean, invstd;
};
template <typename T>
RowStats row_stats(const T* x, int64_t C, double eps) {
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += to_f32(x[c]);
  const double mean = sum / static_cast<double>(C);
  double squares = 0;
  for (int64_t c = 0; c < C; ++c) squares += (to_f32(x[c]) - mean) * (to_f32(x[c]) - mean);
  return {mean, 1.0 / std::sqrt(squares / static_cast<double>(C) + eps)};
}

template <typename T>
void layer_norm_typed(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y) {
  const int64_t C = x.size(-1), rows = x.numel() / C;
  const T* xp = x.data<T>();
  const float *w = weight.data<float>(), *b = bias.data<float>();
  T* yp = y.data<T>();
#pragma omp parallel for schedule(static) if (rows * C > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = xp + r * C;
    const RowStats s = row_stats(xr, C, eps);
    for (int64_t c = 0; c < C; ++c)
      yp[r * C + c] = from_f32<T>(static_cast<float>((to_f32(xr[c]) - s.mean) * s.invstd * w[c] + b[c]));
  }
}
}  // namespace

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y) {
  visit_float_storage(x.dtype(), "layer_norm",
                      [&](auto t) { layer_norm_typed<decltype(t)>(x, weight, bias, eps, y); });
}

void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps,
                         LayerNormGradients& g) {
  const int64_t C = x.size(-1), rows = x.numel() / C;
  const float *xp = x.data<float>(), *dyp = dy.data<float>(), *w = weight.data<float>();
  float* dx = g.dx.data<float>();
  std::vector<double> dweight(static_cast<size_t>(C), 0.0), dbias(static_cast<size_t>(C), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = xp + r * C, *dr = dyp + r * C;
    const RowStats s = row_stats(xr, C, eps);
    double mean_g = 0, mean_gx = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double xhat = (xr[c] - s.mean) * s.invstd, gc = static_cast<double>(w[c]) * dr[c];
      mean_g += gc;
      mean_gx += gc * xhat;
      dweight[static_cast<size_t>(c)] += static_cast<double>(dr[c]) * xhat;
      dbias[static_cast<size_t>(c)] += dr[c];
    }
    mean_g /= static_cast<double>(C);
    mean_gx /= static_cast<double>(C);
    for (int64_t c = 0; c < C; ++c) {
      const double xhat = (xr[c] - s.mean) * s.invstd;
      dx[r * C + c] =
          static_cast<float>((static_cast<double>(w[c]) * dr[c] - mean_g - xhat * mean_gx) * s.invstd);
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    g.dweight.data<float>()[c] = static_cast<float>(dweight[static_cast<size_t>(c)]);
    g.dbias.data<float>()[c] = static_cast<float>(dbias[static_cast<size_t>(c)]);
  }
}

}  // namespace sc::cpu
