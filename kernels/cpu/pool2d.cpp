#include "kernels/pool2d.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/row_runs.h"

namespace sc::cpu {

namespace {

// Both passes run along output rows: for each window row h and tap kw, the run of outputs whose input lies
// inside the image (row_runs.h) takes its value in one loop over ow that vectorizes, instead of each output
// scanning its window with bounds tests. Each output still sees its window's elements in row order (h, then
// w), so the sums, the maxima and the NaN rule are as a per-window scan gives them.

// best[ow] (and, with kPick, its index in the plane, pick[ow]) after the elements at input row h and column
// ow·sw + offset for ow in [lo, hi): the first largest value in scan order, a NaN replacing it (as
// max_pool_pick, pool2d_window.h, and PyTorch). 32-bit indices, so that the loop vectorizes (64-bit ones
// beside 32-bit floats kept it scalar).
template <bool kPick>
void max_run(const float* __restrict plane, int64_t W, int64_t h, int64_t sw, int64_t offset, int64_t lo,
             int64_t hi, float* __restrict best, int32_t* __restrict pick) {
  const auto base = static_cast<int32_t>(h * W + offset), step = static_cast<int32_t>(sw);
  for (auto ow = static_cast<int32_t>(lo); ow < static_cast<int32_t>(hi); ++ow) {
    const float v = plane[base + ow * step], b = best[ow];
    const bool take = v > b || v != v;
    best[ow] = take ? v : b;
    if constexpr (kPick) pick[ow] = take ? base + ow * step : pick[ow];
  }
}

// max_run's 32-bit indices reach every element of an H × W plane.
void check_plane_indices(int64_t H, int64_t W, const char* name) {
  SC_CHECK(H * W <= std::numeric_limits<int32_t>::max(), name, ": a plane of ", H, "x", W,
           " has more elements than 32-bit indices reach");
}

// The window rows [hs, he) of output row oh.
void window_rows(const Pool2dParams& p, int64_t H, int64_t oh, int64_t& hs, int64_t& he) {
  const int64_t h0 = oh * p.stride_h - p.pad_h;
  hs = std::max<int64_t>(h0, 0);
  he = std::min(h0 + p.kernel_h, H);
}

}  // namespace

void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const int64_t sw = p.stride_w;
  check_plane_indices(H, W, "pool2d");
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const float divisor = static_cast<float>(p.kernel_h * p.kernel_w);
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(Wo));
#pragma omp for schedule(static)
    for (int64_t nc = 0; nc < NC; ++nc) {
      const float* xi = xp + nc * H * W;
      for (int64_t oh = 0; oh < Ho; ++oh) {
        int64_t hs = 0, he = 0;
        window_rows(p, H, oh, hs, he);
        std::fill(acc.begin(), acc.end(),
                  kind == PoolKind::Max ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (int64_t h = hs; h < he; ++h)
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            int64_t lo = 0, hi = 0;
            inside_columns(W, Wo, sw, kw - p.pad_w, lo, hi);
            if (kind == PoolKind::Max) {
              max_run<false>(xi, W, h, sw, kw - p.pad_w, lo, hi, acc.data(), nullptr);
              continue;
            }
            const int64_t base = h * W + kw - p.pad_w;  // an index (negative at the padding), not a pointer
            for (int64_t ow = lo; ow < hi; ++ow) acc[static_cast<size_t>(ow)] += xi[base + ow * sw];
          }
        float* out = yp + (nc * Ho + oh) * Wo;
        if (kind == PoolKind::Max)
          std::copy(acc.begin(), acc.end(), out);
        else
          for (int64_t ow = 0; ow < Wo; ++ow) out[ow] = acc[static_cast<size_t>(ow)] / divisor;
      }
    }
  }
}

// Each plane scatters its dy into its windows (a plane is one thread's, so the sums need no atomics), output
// by output in row order. Max: each output row's picks first (max_run), then their scatter.
void pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, const Pool2dParams& p, Tensor& dx) {
  const int64_t NC = dx.size(0) * dx.size(1), H = dx.size(2), W = dx.size(3), Ho = dy.size(2),
                Wo = dy.size(3);
  const int64_t sw = p.stride_w;
  check_plane_indices(H, W, "pool2d_backward");
  const float* gp = dy.data<float>();
  const float* xp = kind == PoolKind::Max ? x.data<float>() : nullptr;
  float* dp = dx.data<float>();
  const float divisor = static_cast<float>(p.kernel_h * p.kernel_w);
#pragma omp parallel
  {
    std::vector<float> best(static_cast<size_t>(Wo));
    std::vector<int32_t> pick(static_cast<size_t>(Wo));
#pragma omp for schedule(static)
    for (int64_t nc = 0; nc < NC; ++nc) {
      float* di = dp + nc * H * W;
      std::fill(di, di + H * W, 0.0f);
      for (int64_t oh = 0; oh < Ho; ++oh) {
        const float* g = gp + (nc * Ho + oh) * Wo;
        int64_t hs = 0, he = 0;
        window_rows(p, H, oh, hs, he);
        if (kind == PoolKind::Max) {
          // A window of −∞ alone picks its first element.
          for (int64_t ow = 0; ow < Wo; ++ow) {
            best[static_cast<size_t>(ow)] = -std::numeric_limits<float>::infinity();
            pick[static_cast<size_t>(ow)] =
                static_cast<int32_t>(hs * W + std::max<int64_t>(ow * sw - p.pad_w, 0));
          }
          for (int64_t h = hs; h < he; ++h)
            for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
              int64_t lo = 0, hi = 0;
              inside_columns(W, Wo, sw, kw - p.pad_w, lo, hi);
              max_run<true>(xp + nc * H * W, W, h, sw, kw - p.pad_w, lo, hi, best.data(), pick.data());
            }
          for (int64_t ow = 0; ow < Wo; ++ow) di[pick[static_cast<size_t>(ow)]] += g[ow];
          continue;
        }
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t w0 = ow * sw - p.pad_w, w1 = std::min(w0 + p.kernel_w, W);
          for (int64_t h = hs; h < he; ++h)
            for (int64_t w = std::max<int64_t>(w0, 0); w < w1; ++w) di[h * W + w] += g[ow] / divisor;
        }
      }
    }
  }
}

}  // namespace sc::cpu
