#include "kernels/adaptive_avg_pool2d.h"

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

}  // namespace sc::cpu
