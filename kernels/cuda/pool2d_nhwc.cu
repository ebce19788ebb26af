// One thread per output element, channels fastest (coalesced loads and stores).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/pool2d_nhwc.h"

namespace sc::cuda {
namespace {

template <typename T, PoolKind kKind>
__global__ void pool_nhwc_kernel(const T* x, T* y, long long total, int H, int W, int C, int Ho, int Wo,
                                 Pool2dParams p) {
  SC_GRID_STRIDE_LOOP(i, total) {
    const int c = static_cast<int>(i % C), ow = static_cast<int>((i / C) % Wo),
              oh = static_cast<int>((i / C / Wo) % Ho);
    const long long n = i / (static_cast<long long>(C) * Wo * Ho);
    const int h0 = oh * static_cast<int>(p.stride_h) - static_cast<int>(p.pad_h);
    const int w0 = ow * static_cast<int>(p.stride_w) - static_cast<int>(p.pad_w);
    const int h1 = min(h0 + static_cast<int>(p.kernel_h), H), w1 = min(w0 + static_cast<int>(p.kernel_w), W);
    if constexpr (kKind == PoolKind::Max) {
      // Padding is at most half the window, so the window holds an input; NaN wins.
      T best = x[((n * H + max(h0, 0)) * W + max(w0, 0)) * C + c];
      float fb = load_f32(&best);
      for (int h = max(h0, 0); h < h1 && fb == fb; ++h)
        for (int w = max(w0, 0); w < w1; ++w) {
          const T v = x[((n * H + h) * W + w) * C + c];
          const float fv = load_f32(&v);
          if (fv > fb || fv != fv) best = v, fb = fv;
          if (fv != fv) break;
        }
      y[i] = best;
    } else {
      // In the CPU reference's order: h, then w; the full window's size divides (count_include_pad).
      float sum = 0.0f;
      for (int h = max(h0, 0); h < h1; ++h)
        for (int w = max(w0, 0); w < w1; ++w) sum += load_f32(&x[((n * H + h) * W + w) * C + c]);
      store_f32(&y[i], sum / static_cast<float>(p.kernel_h * p.kernel_w));
    }
  }
}

}  // namespace

void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const long long total = y.numel();
  const int H = static_cast<int>(x.size(1)), W = static_cast<int>(x.size(2)), C = static_cast<int>(x.size(3));
  const int Ho = static_cast<int>(y.size(1)), Wo = static_cast<int>(y.size(2));
  auto launch = [&]<typename T>(const T* xp, T* yp) {
    if (kind == PoolKind::Max) {
      SC_LAUNCH(grid_for(total), kThreads, 0, pool_nhwc_kernel<T, PoolKind::Max>)
      (xp, yp, total, H, W, C, Ho, Wo, p);
    } else {
      SC_LAUNCH(grid_for(total), kThreads, 0, pool_nhwc_kernel<T, PoolKind::Avg>)
      (xp, yp, total, H, W, C, Ho, Wo, p);
    }
    SC_CUDA_LAUNCH_CHECK("pool_nhwc_kernel");
  };
  switch (x.dtype()) {
    case DType::F32:
      return launch(x.data<float>(), y.data<float>());
    case DType::BF16:
      return launch(x.data<BFloat16>(), y.data<BFloat16>());
    case DType::F16:
      return launch(x.data<Half>(), y.data<Half>());
    default:
      SC_FAIL("pool2d_nhwc: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cuda
