#include "kernels/subsample2d.h"

namespace sc::cpu {

void subsample2d(const Tensor& x, int64_t stride, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) yp[(nc * Ho + i) * Wo + j] = xp[(nc * H + i * stride) * W + j * stride];
}

void subsample2d_backward(const Tensor& dy, int64_t stride, Tensor& dx) {
  const int64_t NC = dx.size(0) * dx.size(1), H = dx.size(2), W = dx.size(3), Ho = dy.size(2),
                Wo = dy.size(3);
  const float* gp = dy.data<float>();
  float* dp = dx.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        dp[(nc * H + h) * W + w] =
            (h % stride == 0 && w % stride == 0) ? gp[(nc * Ho + h / stride) * Wo + w / stride] : 0.0f;
}

}  // namespace sc::cpu
