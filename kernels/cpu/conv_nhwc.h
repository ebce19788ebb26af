// Shared CPU machinery of the NHWC convolutions (fused_conv, noisy_input_conv): a chunk of samples at a time,
// unfold the (transformed) input into one row of K = KH·KW·C values per output pixel, then one matrix product
// with the transposed weights.
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

// The product's columns: the output channels padded to whole register tiles (sgemm_tile_columns), so that
// the product has no partial tile; the padding's sums are dropped.
inline int64_t padded_channels(const NhwcConvShape& s) {
  return sgemm_tile_columns(s.O);
}

// w [O, K] in any storage type → float [K, padded_channels] with zero padding columns, the product's right
// operand (optionally through `round`).
template <typename T, typename Round>
std::vector<float> transposed_float_weights(const T* w, const NhwcConvShape& s, Round round) {
  const int64_t O = s.O, K = s.K(), ld = padded_channels(s);
  std::vector<float> wt(static_cast<size_t>(K * ld), 0.0f);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t k = 0; k < K; ++k) wt[static_cast<size_t>(k * ld + o)] = round(to_f32(w[o * K + k]));
  return wt;
}

// Samples per chunk so that a chunk has at least ~256 output pixels: the matrix product then runs wide even
// for the 1×1 maps of fully connected layers.
inline int64_t chunk_samples(const NhwcConvShape& s, int64_t N) {
  return std::max<int64_t>(1, std::min<int64_t>(N, (256 + s.P() - 1) / s.P()));
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

// out[j, o] = Σ_k rows[j, k] · wt[k, o] (row stride padded_channels) for a chunk of nb samples, j = sample·P
// + p: one row of the unfolded input per output pixel, rows[j, (r·KW + s)·C + c] = x[sample, ih, iw, c]
// inside the image and 0 in the padding. In NHWC, a window row (r fixed) is KW·C consecutive floats of the
// input, so the unfold copies segments as long as the channels allow, and the output comes out in NHWC order.
// x holds the chunk's (already transformed) input as float32 NHWC; out is scratch of nb·P·padded_channels
// floats, rows of nb·P·K floats where unfolds(s) (a 1×1 convolution with stride 1 and no padding multiplies x
// itself).
inline bool unfolds(const NhwcConvShape& s) {
  return !(s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0);
}
inline void conv_chunk_nhwc(const NhwcConvShape& s, int64_t nb, const float* x, const float* wt, float* rows,
                            float* out) {
  const int64_t K = s.K(), C = s.C, segment = s.KW * C;
  const float* a = x;
  if (unfolds(s)) {
    float* dst = rows;
    for (int64_t n = 0; n < nb; ++n)
      for (int64_t oh = 0; oh < s.Ho; ++oh)
        for (int64_t ow = 0; ow < s.Wo; ++ow, dst += K) {
          // Window columns whose input column iw0 + q lies inside the image: [qlo, qhi).
          const int64_t iw0 = ow * s.sw - s.pw;
          const int64_t qlo = std::min(s.KW, std::max<int64_t>(0, -iw0));
          const int64_t qhi = std::max(qlo, std::min(s.KW, s.W - iw0));
          for (int64_t r = 0; r < s.KH; ++r) {
            float* seg = dst + r * segment;
            const int64_t ih = oh * s.sh - s.ph + r;
            if (ih < 0 || ih >= s.H) {
              std::fill(seg, seg + segment, 0.0f);
              continue;
            }
            std::fill(seg, seg + qlo * C, 0.0f);
            copy_floats(seg + qlo * C, x + ((n * s.H + ih) * s.W + iw0 + qlo) * C, (qhi - qlo) * C);
            std::fill(seg + qhi * C, seg + segment, 0.0f);
          }
        }
    a = rows;
  }
  const int64_t ld = padded_channels(s);
  sgemm(nb * s.P(), ld, K, a, K, wt, ld, out, ld, false);
}

}  // namespace sc::cpu
