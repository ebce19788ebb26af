#include <algorithm>
#include <limits>

#include "kernels/pool2d.h"

namespace sc::cpu {

void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const float divisor = static_cast<float>(p.kernel_h * p.kernel_w);
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc) {
    const float* xi = xp + nc * H * W;
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
        const int64_t h1 = std::min(h0 + p.kernel_h, H), w1 = std::min(w0 + p.kernel_w, W);
        float acc = kind == PoolKind::Max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (int64_t h = std::max<int64_t>(h0, 0); h < h1; ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < w1; ++w) {
            const float v = xi[h * W + w];
            if (kind == PoolKind::Avg)
              acc += v;
            else if (v > acc || v != v)  // NaN wins, as in PyTorch
              acc = v;
          }
        yp[(nc * Ho + oh) * Wo + ow] = kind == PoolKind::Avg ? acc / divisor : acc;
      }
  }
}

}  // namespace sc::cpu
