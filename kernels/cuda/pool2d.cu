#include "kernels/cuda/common.cuh"
#include "kernels/pool2d.h"
#include "kernels/pool2d_window.h"

namespace sc::cuda {

namespace {
template <PoolKind kKind>
__global__ void pool2d_kernel(const float* x, float* y, long long n, int H, int W, int Ho, int Wo, Pool2dParams p) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int ow = static_cast<int>(i % Wo), oh = static_cast<int>((i / Wo) % Ho);
    const long long nc = i / (static_cast<long long>(Wo) * Ho);
    const float* xi = x + nc * H * W;
    const int h0 = oh * static_cast<int>(p.stride_h) - static_cast<int>(p.pad_h);
    const int w0 = ow * static_cast<int>(p.stride_w) - static_cast<int>(p.pad_w);
    const int h1 = min(h0 + static_cast<int>(p.kernel_h), H), w1 = min(w0 + static_cast<int>(p.kernel_w), W);
    float acc = kKind == PoolKind::Max ? -INFINITY : 0.0f;
    for (int h = max(h0, 0); h < h1; ++h)
      for (int w = max(w0, 0); w < w1; ++w) {
        const float v = xi[h * W + w];
        if (kKind == PoolKind::Avg)
          acc += v;
        else if (v > acc || v != v)
          acc = v;
      }
    y[i] = kKind == PoolKind::Avg ? acc / static_cast<float>(p.kernel_h * p.kernel_w) : acc;
  }
}

// A thread per input element gathers the dy of the windows that contain it (for max, those whose pick it is),
// in window order: no atomics, the same sums every run.
template <PoolKind kKind>
__global__ void pool2d_backward_kernel(const float* dy, const float* x, float* dx, long long n, int H, int W,
                                       int Ho, int Wo, Pool2dParams p) {
  const int kh = static_cast<int>(p.kernel_h), kw = static_cast<int>(p.kernel_w);
  const int sh = static_cast<int>(p.stride_h), sw = static_cast<int>(p.stride_w);
  const int ph = static_cast<int>(p.pad_h), pw = static_cast<int>(p.pad_w);
  SC_GRID_STRIDE_LOOP(i, n) {
    const int w = static_cast<int>(i % W), h = static_cast<int>((i / W) % H);
    const long long nc = i / (static_cast<long long>(W) * H);
    const WindowRange rows = windows_containing(h, kh, sh, ph, Ho),
                      cols = windows_containing(w, kw, sw, pw, Wo);
    float acc = 0.0f;
    for (int oh = rows.first; oh <= rows.last; ++oh)
      for (int ow = cols.first; ow <= cols.last; ++ow) {
        const float g = dy[(nc * Ho + oh) * Wo + ow];
        if (kKind == PoolKind::Avg)
          acc += g / static_cast<float>(kh * kw);
        else if (max_pool_pick(x + nc * H * W, H, W, oh * sh - ph, ow * sw - pw, kh, kw) == h * W + w)
          acc += g;
      }
    dx[i] = acc;
  }
}
}  // namespace

void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const long long n = y.numel();
  const int H = static_cast<int>(x.size(2)), W = static_cast<int>(x.size(3));
  const int Ho = static_cast<int>(y.size(2)), Wo = static_cast<int>(y.size(3));
  if (kind == PoolKind::Avg)
    SC_LAUNCH(grid_for(n), kThreads, 0, pool2d_kernel<PoolKind::Avg>)(
        x.data<float>(), y.data<float>(), n, H, W, Ho, Wo, p);
  else
    SC_LAUNCH(grid_for(n), kThreads, 0, pool2d_kernel<PoolKind::Max>)(
        x.data<float>(), y.data<float>(), n, H, W, Ho, Wo, p);
  SC_CUDA_LAUNCH_CHECK("pool2d_kernel");
}

void pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, const Pool2dParams& p, Tensor& dx) {
  const long long n = dx.numel();
  const int H = static_cast<int>(dx.size(2)), W = static_cast<int>(dx.size(3));
  const int Ho = static_cast<int>(dy.size(2)), Wo = static_cast<int>(dy.size(3));
  if (kind == PoolKind::Avg)
    SC_LAUNCH(grid_for(n), kThreads, 0, pool2d_backward_kernel<PoolKind::Avg>)
    (dy.data<float>(), nullptr, dx.data<float>(), n, H, W, Ho, Wo, p);
  else
    SC_LAUNCH(grid_for(n), kThreads, 0, pool2d_backward_kernel<PoolKind::Max>)
    (dy.data<float>(), x.data<float>(), dx.data<float>(), n, H, W, Ho, Wo, p);
  SC_CUDA_LAUNCH_CHECK("pool2d_backward_kernel");
}

}  // namespace sc::cuda
