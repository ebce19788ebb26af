// Runs along image rows, shared by the CPU's windowed ops (convolutions, pooling): which output columns of a
// row read inside the image, and short copies.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sc::cpu {

// The output columns ow (of Wo) whose input column ow·stride + offset lies inside [0, W): [lo, hi). A window
// tap at offset = tap·dilation − pad. ow·stride + offset ≥ 0 ⇔ ow ≥ ⌈−offset / stride⌉, and
// ow·stride + offset < W ⇔ ow < ⌈(W − offset) / stride⌉.
inline void inside_columns(int64_t W, int64_t Wo, int64_t stride, int64_t offset, int64_t& lo, int64_t& hi) {
  lo = std::min(Wo, offset >= 0 ? 0 : (-offset + stride - 1) / stride);
  hi = std::clamp<int64_t>(W - offset <= 0 ? 0 : (W - offset + stride - 1) / stride, lo, Wo);
}

// dst[0..n) = src[0..n) for the short segments of an unfold, as fixed-size moves (8- or 4-float blocks, the
// last one overlapping): std::copy, or a loop that GCC turns into one, paid a memmove call per segment.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n >= 8) {
    for (int64_t i = 0; i + 8 < n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(float));
    std::memcpy(dst + n - 8, src + n - 8, 8 * sizeof(float));
  } else if (n >= 4) {
    std::memcpy(dst, src, 4 * sizeof(float));
    std::memcpy(dst + n - 4, src + n - 4, 4 * sizeof(float));
  } else {
    if (n > 0) dst[0] = src[0];
    if (n > 1) dst[1] = src[1];
    if (n > 2) dst[2] = src[2];
  }
}

}  // namespace sc::cpu
