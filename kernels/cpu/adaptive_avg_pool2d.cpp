#include "kernels/adaptive_avg_pool2d.h"

#include <algorithm>

namespace sc::cpu {

void adaptive_avg_pool2d(const Tensor& x, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const int64_t h0 = i * H / Ho, h1 = ((i + 1) * H + Ho - 1) / Ho;
        const int64_t w0 = j * W / Wo, w1 = ((j + 1) * W + Wo - 1) / Wo;
        float acc = 0.0f;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) acc += xp[(nc * H + h) * W + w];
        yp[(nc * Ho + i) * Wo + j] = acc / static_cast<float>((h1 - h0) * (w1 - w0));
      }
}

void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx) {
  const int64_t NC = dx.size(0) * dx.size(1), H = dx.size(2), W = dx.size(3), Ho = dy.size(2),
                Wo = dy.size(3);
  const float* gp = dy.data<float>();
  float* dp = dx.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc) {
    float* di = dp + nc * H * W;
    std::fill(di, di + H * W, 0.0f);
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const int64_t h0 = i * H / Ho, h1 = ((i + 1) * H + Ho - 1) / Ho;
        const int64_t w0 = j * W / Wo, w1 = ((j + 1) * W + Wo - 1) / Wo;
        const float g = gp[(nc * Ho + i) * Wo + j] / static_cast<float>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) di[h * W + w] += g;
      }
  }
}

}  // namespace sc::cpu
