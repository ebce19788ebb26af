#include "kernels/pool2d.h"

#include <algorithm>
#include <limits>

#include "kernels/pool2d_window.h"

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

// Each plane scatters its dy into its windows (a plane is one thread's, so the sums need no atomics).
void pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, const Pool2dParams& p, Tensor& dx) {
  const int64_t NC = dx.size(0) * dx.size(1), H = dx.size(2), W = dx.size(3), Ho = dy.size(2),
                Wo = dy.size(3);
  const float* gp = dy.data<float>();
  const float* xp = kind == PoolKind::Max ? x.data<float>() : nullptr;
  float* dp = dx.data<float>();
  const float divisor = static_cast<float>(p.kernel_h * p.kernel_w);
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc) {
    float* di = dp + nc * H * W;
    std::fill(di, di + H * W, 0.0f);
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        const float g = gp[(nc * Ho + oh) * Wo + ow];
        const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
        if (kind == PoolKind::Max) {
          di[max_pool_pick(xp + nc * H * W, static_cast<int>(H), static_cast<int>(W), static_cast<int>(h0),
                           static_cast<int>(w0), static_cast<int>(p.kernel_h),
                           static_cast<int>(p.kernel_w))] += g;
          continue;
        }
        const int64_t h1 = std::min(h0 + p.kernel_h, H), w1 = std::min(w0 + p.kernel_w, W);
        for (int64_t h = std::max<int64_t>(h0, 0); h < h1; ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < w1; ++w) di[h * W + w] += g / divisor;
      }
  }
}

}  // namespace sc::cpu
