#include "kernels/resize_bicubic.h"
#include "kernels/resize_bicubic_weights.h"

namespace sc::cpu {

void resize_bicubic_axis(const Tensor& x, int axis, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const int in = static_cast<int>(axis == 3 ? W : H), out = static_cast<int>(axis == 3 ? Wo : Ho);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t r = 0; r < Ho; ++r)
      for (int64_t c = 0; c < Wo; ++c) {
        float w[260];
        int first = 0;
        const int n = cubic_taps(static_cast<int>(axis == 3 ? c : r), in, out, w, 260, &first);
        float acc = 0.0f;
        for (int j = 0; j < n; ++j)
          acc += w[j] * (axis == 3 ? xp[(nc * H + r) * W + first + j] : xp[(nc * H + first + j) * W + c]);
        yp[(nc * Ho + r) * Wo + c] = acc;
      }
}

}  // namespace sc::cpu
