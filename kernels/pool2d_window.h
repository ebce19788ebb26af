// Window arithmetic shared by pool2d's CPU and CUDA backward passes.
#pragma once
#include "kernels/host_device.h"

namespace sc {

// The element max_pool2d's window picks in one H × W plane, as h·W + w: the window starts at (h0, w0)
// (padding may put it outside), and the pick is the first largest value in row order, a NaN winning, as the
// forward and PyTorch choose (a window of −∞ alone gives its first element).
SC_HOST_DEVICE int max_pool_pick(const float* plane, int H, int W, int h0, int w0, int kh, int kw) {
  const int hs = h0 > 0 ? h0 : 0, ws = w0 > 0 ? w0 : 0;
  const int he = h0 + kh < H ? h0 + kh : H, we = w0 + kw < W ? w0 + kw : W;
  int pick = hs * W + ws;
  float best = -__builtin_huge_valf();
  for (int h = hs; h < he; ++h)
    for (int w = ws; w < we; ++w) {
      const float v = plane[h * W + w];
      if (v > best || v != v) {
        best = v;
        pick = h * W + w;
      }
    }
  return pick;
}

// The windows (along one axis) that contain input position i: out positions o with o·stride − pad ≤ i <
// o·stride − pad + kernel, clamped to [0, out). Empty when first > last.
struct WindowRange {
  int first, last;
};
SC_HOST_DEVICE WindowRange windows_containing(int i, int kernel, int stride, int pad, int out) {
  const int hi = i + pad;          // o·stride ≤ hi
  const int lo = hi - kernel + 1;  // o·stride ≥ lo
  const int first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  int last = hi / stride;
  if (last > out - 1) last = out - 1;
  return {first, last};
}

}  // namespace sc
