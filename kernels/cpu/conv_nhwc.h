// Shared CPU machinery of the NHWC convolutions (fused_conv, noisy_input_conv): a chunk of samples at a time,
// unfold the (transformed) input into K = KH·KW·C rows of output pixels, then one matrix product with the
// weights.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "nn/half.h"

namespace sc::cpu {

inline float to_f32(float v) {
  return v;
}
inline float to_f32(BFloat16 v) {
  return v.to_float();
}
inline float to_f32(Half v) {
  return v.to_float();
}
template <typename T>
T from_f32(float v);
template <>
inline float from_f32<float>(float v) {
  return v;
}
template <>
inline BFloat16 from_f32<BFloat16>(float v) {
  return BFloat16::from_float(v);
}
template <>
inline Half from_f32<Half>(float v) {
  return Half::from_float(v);
}

struct NhwcConvShape {
  int64_t H, W, C, O, KH, KW, Ho, Wo, sh, sw, ph, pw;
  int64_t K() const { return KH * KW * C; }
  int64_t P() const { return Ho * Wo; }
};

// w [O, K] in any storage type → float [O, K] (optionally through `round`).
template <typename T, typename Round>
std::vector<float> float_weights(const T* w, int64_t O, int64_t K, Round round) {
  std::vector<float> wf(static_cast<size_t>(O * K));
  for (int64_t i = 0; i < O * K; ++i) wf[static_cast<size_t>(i)] = round(to_f32(w[i]));
  return wf;
}

// Samples per chunk so that a chunk has at least ~256 output pixels: the matrix product then runs wide even
// for the 1×1 maps of fully connected layers.
inline int64_t chunk_samples(const NhwcConvShape& s, int64_t N) {
  return std::max<int64_t>(1, std::min<int64_t>(N, (256 + s.P() - 1) / s.P()));
}

// dst[0..n) = src[0..n) for the short rows of an unfold: 8-float blocks (the last one overlapping) as inline
// moves, where std::copy paid a memmove call per row.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n < 8) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  for (int64_t i = 0; i + 8 < n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(float));
  std::memcpy(dst + n - 8, src + n - 8, 8 * sizeof(float));
}

// out[o, j] = Σ_k w[o, k] · col[k, j] for a chunk of nb samples, j = sample·P + p, with
// col[(r·KW + s)·C + c, j] = x[sample, c, ih, iw] inside the image and 0 in the padding. x holds the chunk's
// (already transformed) input as float planes, [sample][C][H][W], so that each row of col is read from one
// plane, contiguously for stride 1 (gathering from NHWC read one float per cache line). Output pixels run
// along the vectorized axis; callers read out[o·nb·P + j]. col and out are scratch of K·nb·P and O·nb·P
// floats.
inline void conv_chunk_planar(const NhwcConvShape& s, int64_t nb, const float* x, const float* w, float* col,
                              float* out) {
  const int64_t K = s.K(), P = s.P(), J = nb * P;
  for (int64_t q = 0; q < s.KW; ++q) {
    // Output columns whose input column ow·sw − pw + q lies inside the image: [lo, hi).
    const int64_t last = s.W - 1 + s.pw - q;  // ow·sw ≤ last
    const int64_t lo = std::min(s.Wo, std::max<int64_t>(0, (s.pw - q + s.sw - 1) / s.sw));
    const int64_t hi = std::max(lo, std::min(s.Wo, last < 0 ? 0 : last / s.sw + 1));
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t r = 0; r < s.KH; ++r)
        for (int64_t c = 0; c < s.C; ++c) {
          float* dst = col + ((r * s.KW + q) * s.C + c) * J + n * P;
          const float* plane = x + (n * s.C + c) * s.H * s.W;
          for (int64_t oh = 0; oh < s.Ho; ++oh) {
            const int64_t ih = oh * s.sh - s.ph + r;
            float* row = dst + oh * s.Wo;
            if (ih < 0 || ih >= s.H) {
              std::fill(row, row + s.Wo, 0.0f);
              continue;
            }
            const float* in_row = plane + ih * s.W;
            const int64_t shift = q - s.pw;  // output column ow reads input column ow·sw + shift
            std::fill(row, row + lo, 0.0f);
            if (s.sw == 1)
              copy_floats(row + lo, in_row + lo + shift, hi - lo);
            else
              for (int64_t ow = lo; ow < hi; ++ow) row[ow] = in_row[ow * s.sw + shift];
            std::fill(row + hi, row + s.Wo, 0.0f);
          }
        }
  }
  sgemm(s.O, J, K, w, K, col, J, out, J, false);
}

}  // namespace sc::cpu
