#include "kernels/pool2d_nhwc.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/conv_nhwc.h"

namespace sc::cpu {
namespace {

template <typename T>
void max_pool_typed(const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), Ho = y.size(1), Wo = y.size(2);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
        const int64_t h1 = std::min(h0 + p.kernel_h, H), w1 = std::min(w0 + p.kernel_w, W);
        const int64_t hs = std::max<int64_t>(h0, 0), ws = std::max<int64_t>(w0, 0);
        T* dst = yp + ((n * Ho + oh) * Wo + ow) * C;
        // Padding is at most half the window, so every window holds an input. Scanning the window in order,
        // the first NaN wins and stays; otherwise the first maximum.
        const T* first = xp + ((n * H + hs) * W + ws) * C;
        std::copy(first, first + C, dst);
        for (int64_t h = hs; h < h1; ++h)
          for (int64_t w = (h == hs ? ws + 1 : ws); w < w1; ++w) {
            const T* __restrict v = xp + ((n * H + h) * W + w) * C;
            T* __restrict best = dst;
            for (int64_t c = 0; c < C; ++c) {  // an unconditional select, so that it vectorizes over c
              const float fb = to_f32(best[c]), fv = to_f32(v[c]);
              best[c] = fb == fb && (fv > fb || fv != fv) ? v[c] : best[c];
            }
          }
      }
}

// The window's inputs summed in float32 in scan order (h, then w), divided by the window's full size (padding
// counts: count_include_pad), rounded once to T; the CUDA kernel sums in the same order.
template <typename T>
void avg_pool_typed(const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), Ho = y.size(1), Wo = y.size(2);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  const auto divisor = static_cast<float>(p.kernel_h * p.kernel_w);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < Ho; ++oh) {
      std::vector<float> sum(static_cast<size_t>(C));
      for (int64_t ow = 0; ow < Wo; ++ow) {
        const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
        const int64_t h1 = std::min(h0 + p.kernel_h, H), w1 = std::min(w0 + p.kernel_w, W);
        std::fill(sum.begin(), sum.end(), 0.0f);
        for (int64_t h = std::max<int64_t>(h0, 0); h < h1; ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < w1; ++w) {
            const T* __restrict v = xp + ((n * H + h) * W + w) * C;
            for (int64_t c = 0; c < C; ++c) sum[static_cast<size_t>(c)] += to_f32(v[c]);
          }
        T* dst = yp + ((n * Ho + oh) * Wo + ow) * C;
        for (int64_t c = 0; c < C; ++c) dst[c] = from_f32<T>(sum[static_cast<size_t>(c)] / divisor);
      }
    }
}

template <typename T>
void pool_typed(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  if (kind == PoolKind::Max)
    max_pool_typed<T>(x, p, y);
  else
    avg_pool_typed<T>(x, p, y);
}

}  // namespace

void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  switch (x.dtype()) {
    case DType::F32:
      return pool_typed<float>(kind, x, p, y);
    case DType::BF16:
      return pool_typed<BFloat16>(kind, x, p, y);
    case DType::F16:
      return pool_typed<Half>(kind, x, p, y);
    default:
      SC_FAIL("pool2d_nhwc: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cpu
