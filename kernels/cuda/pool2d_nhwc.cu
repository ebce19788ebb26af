// One thread per run of V consecutive channels of one output pixel (V·sizeof(T) = 16 bytes where the channels
// and the pointers allow it, else one channel): coalesced 16-byte loads and stores, each channel pooled alone.
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/pool2d_nhwc.h"

namespace sc::cuda {
namespace {

template <typename T, int V>
struct alignas(sizeof(T) * V) ChannelRun {
  T v[V];
};

// total: output pixels times C / V.
template <typename T, PoolKind kKind, int V>
__global__ void pool_nhwc_kernel(const T* x, T* y, long long total, int H, int W, int C, int Ho, int Wo,
                                 Pool2dParams p) {
  using Run = ChannelRun<T, V>;
  const int runs = C / V;
  SC_GRID_STRIDE_LOOP(i, total) {
    const int c = static_cast<int>(i % runs) * V, ow = static_cast<int>((i / runs) % Wo),
              oh = static_cast<int>((i / runs / Wo) % Ho);
    const long long n = i / (static_cast<long long>(runs) * Wo * Ho);
    const int h0 = oh * static_cast<int>(p.stride_h) - static_cast<int>(p.pad_h);
    const int w0 = ow * static_cast<int>(p.stride_w) - static_cast<int>(p.pad_w);
    const int h1 = min(h0 + static_cast<int>(p.kernel_h), H), w1 = min(w0 + static_cast<int>(p.kernel_w), W);
    const auto at = [&](int h, int w) { return *reinterpret_cast<const Run*>(x + ((n * H + h) * W + w) * C + c); };
    Run out;
    if constexpr (kKind == PoolKind::Max) {
      // Padding is at most half the window, so the window holds an input. A channel takes a greater value or
      // a NaN, and keeps its first NaN.
      out = at(max(h0, 0), max(w0, 0));
      float best[V];
#pragma unroll
      for (int q = 0; q < V; ++q) best[q] = load_f32(&out.v[q]);
      for (int h = max(h0, 0); h < h1; ++h)
        for (int w = max(w0, 0); w < w1; ++w) {
          const Run v = at(h, w);
#pragma unroll
          for (int q = 0; q < V; ++q) {
            const float f = load_f32(&v.v[q]);
            if (best[q] == best[q] && (f > best[q] || f != f)) out.v[q] = v.v[q], best[q] = f;
          }
        }
    } else {
      // In the CPU reference's order: h, then w; the full window's size divides (count_include_pad).
      float sum[V] = {};
      for (int h = max(h0, 0); h < h1; ++h)
        for (int w = max(w0, 0); w < w1; ++w) {
          const Run v = at(h, w);
#pragma unroll
          for (int q = 0; q < V; ++q) sum[q] += load_f32(&v.v[q]);
        }
#pragma unroll
      for (int q = 0; q < V; ++q) store_f32(&out.v[q], sum[q] / static_cast<float>(p.kernel_h * p.kernel_w));
    }
    *reinterpret_cast<Run*>(y + i * V) = out;
  }
}

}  // namespace

void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const long long total = y.numel();
  const int H = static_cast<int>(x.size(1)), W = static_cast<int>(x.size(2)), C = static_cast<int>(x.size(3));
  const int Ho = static_cast<int>(y.size(1)), Wo = static_cast<int>(y.size(2));
  auto launch = [&]<typename T>(const T* xp, T* yp) {
    constexpr int kRun = 16 / sizeof(T);
    const bool runs = C % kRun == 0 && reinterpret_cast<uintptr_t>(xp) % 16 == 0 &&
                      reinterpret_cast<uintptr_t>(yp) % 16 == 0;
    const auto go = [&](auto kernel, int v) {
      SC_LAUNCH(grid_for(total / v), kThreads, 0, kernel)(xp, yp, total / v, H, W, C, Ho, Wo, p);
      SC_CUDA_LAUNCH_CHECK("pool_nhwc_kernel");
    };
    if (kind == PoolKind::Max)
      return runs ? go(pool_nhwc_kernel<T, PoolKind::Max, kRun>, kRun) : go(pool_nhwc_kernel<T, PoolKind::Max, 1>, 1);
    runs ? go(pool_nhwc_kernel<T, PoolKind::Avg, kRun>, kRun) : go(pool_nhwc_kernel<T, PoolKind::Avg, 1>, 1);
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
