// Shared CPU machinery of the NHWC convolutions (fused_conv, noisy_input_conv): a chunk of samples at a time,
// the (transformed) input multiplied by the transposed weights, its windows read in place (stride 1) or
// unfolded (NhwcConvChunk).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/row_runs.h"
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

// The epilogues run over each pixel's padded row of sums (padded_channels: a multiple of 8 floats), in whole
// blocks of 8 that vectorize: a loop over the O channels leaves a scalar remainder per pixel when O is not a
// multiple of the vector width (LeNet's first layer: 6 channels). The padding's values are dropped.

// The bias padded with zeros to the sums' row: adding it over the padded row adds +0 to the padding.
inline std::vector<float> padded_bias(const float* bias, const NhwcConvShape& s) {
  std::vector<float> out(static_cast<size_t>(padded_channels(s)), 0.0f);
  if (bias) std::copy(bias, bias + s.O, out.begin());
  return out;
}
inline void add_in_place(float* acc, const float* b, int64_t ld) {
  for (int64_t o = 0; o < ld; o += 8)
    for (int64_t k = 0; k < 8; ++k) acc[o + k] += b[o + k];
}
inline void relu_in_place(float* acc, int64_t ld) {
  for (int64_t o = 0; o < ld; o += 8)
    for (int64_t k = 0; k < 8; ++k) acc[o + k] = std::max(acc[o + k], 0.0f);
}
// dst[0..O) = acc[0..O) rounded to T (float: fixed-size moves, no memmove call per pixel).
template <typename T>
void store_channels(T* dst, const float* acc, int64_t O) {
  if constexpr (std::is_same_v<T, float>)
    copy_floats(dst, acc, O);
  else
    for (int64_t o = 0; o < O; ++o) dst[o] = from_f32<T>(acc[o]);
}

// One thread's scratch for the chunks of an NHWC convolution, and a chunk's product with the transposed
// weights (transposed_float_weights): out[pixel, o] = Σ_k window(pixel)[k] · wt[k, o], k = (r·KW + q)·C + c,
// so that the sums come out in NHWC order. In NHWC a kernel row (r fixed) covers KW·C consecutive floats of
// the input. Windows in place (stride 1, see reads_windows_in_place): each sample's input sits inside a zero
// border as wide as the padding (Hp × Wp × C), and the product reads the windows where they are
// (sgemm_windows): one row per pixel oh·Wp + ow, the KH kernel rows one padded image row apart; rows with
// ow ≥ Wo (Wp − Wo per output row) are computed and dropped. Otherwise the input is unfolded first into one
// row of K values per output pixel.
class NhwcConvChunk {
 public:
  // Stride 1 where the dropped rows' products cost less than the unfold would: about one multiply-add per
  // float it copies and a hundred per run of KW·C floats (the loop around each copy), as measured on the
  // CPU path of LeNet and ResNet-110 (bench/RESULTS.md). Few channels favour the windows (LeNet's first
  // layer: runs of 5 floats; ResNet-110's 32×32 maps of 16), small maps of many channels the unfold (8×8 maps
  // of 64: 14 of every 78 rows dropped).
  static bool reads_windows_in_place(const NhwcConvShape& s) {
    if (s.sh != 1 || s.sw != 1) return false;
    const int64_t Wp = s.W + 2 * s.pw, dropped = (s.Ho - 1) * (Wp - s.Wo);
    return dropped * s.K() * padded_channels(s) < s.P() * (s.K() + 100 * s.KH);
  }

  NhwcConvChunk(const NhwcConvShape& s, int64_t nb)
      : s_(s),
        ld_(padded_channels(s)),
        windowed_(reads_windows_in_place(s)),
        Hp_(windowed_ ? s.H + 2 * s.ph : s.H),
        Wp_(windowed_ ? s.W + 2 * s.pw : s.W),
        rows_per_sample_(windowed_ ? (s.Ho - 1) * Wp_ + s.Wo : s.P()),
        input_(static_cast<size_t>(nb * Hp_ * Wp_ * s.C), 0.0f),
        unfolded_(windowed_ ? 0 : static_cast<size_t>(nb * s.P() * s.K())),
        out_(static_cast<size_t>(nb * rows_per_sample_ * ld_)) {}

  // Where sample i's (transformed) input goes: element (h, w, c) at input(i)[h·input_row() + w·C + c]. The
  // border around it stays zero (it is never written).
  float* input(int64_t i) { return input_.data() + (i * Hp_ + pad_h()) * Wp_ * s_.C + pad_w() * s_.C; }
  int64_t input_row() const { return Wp_ * s_.C; }

  // The product for samples [0, count) of the chunk: of input(), or of x (float32 NHWC [count, H, W, C])
  // where reads_unpadded_input() holds.
  void multiply(int64_t count, const float* wt, const float* x = nullptr) {
    const int64_t C = s_.C, K = s_.K(), sample = x ? s_.H * s_.W * C : Hp_ * Wp_ * C;
    const float* in = x ? x : input_.data();
    // One output pixel per sample (a linear layer as a convolution): the samples are the rows of one product.
    if (windowed_ && s_.P() == 1)
      return sgemm_windows(count, ld_, s_.KH, s_.KW * C, in, sample, Wp_ * C, wt, ld_, out_.data(), ld_,
                           false);
    if (windowed_) {
      for (int64_t i = 0; i < count; ++i)
        sgemm_windows(rows_per_sample_, ld_, s_.KH, s_.KW * C, in + i * sample, C, Wp_ * C, wt, ld_,
                      out_.data() + i * rows_per_sample_ * ld_, ld_, false);
      return;
    }
    unfold(count, in);
    sgemm(count * s_.P(), ld_, K, unfolded_.data(), K, wt, ld_, out_.data(), ld_, false);
  }

  // Whether multiply can read the input in place, without a border: unpadded, or unfolded anyway.
  bool reads_unpadded_input() const { return !windowed_ || (s_.ph == 0 && s_.pw == 0); }

  // Output row oh of sample i after multiply: Wo pixels, each padded_channels floats apart.
  float* sums(int64_t i, int64_t oh) {
    return out_.data() + (i * rows_per_sample_ + oh * (windowed_ ? Wp_ : s_.Wo)) * ld_;
  }
  int64_t sums_stride() const { return ld_; }

 private:
  int64_t pad_h() const { return windowed_ ? s_.ph : 0; }
  int64_t pad_w() const { return windowed_ ? s_.pw : 0; }

  // unfolded_[pixel, (r·KW + q)·C + c] = x[sample, ih, iw, c] inside the image and 0 in the padding.
  void unfold(int64_t count, const float* x) {
    const NhwcConvShape& s = s_;
    const int64_t K = s.K(), C = s.C, segment = s.KW * C;
    float* dst = unfolded_.data();
    for (int64_t n = 0; n < count; ++n)
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
  }

  NhwcConvShape s_;
  int64_t ld_;
  bool windowed_;
  int64_t Hp_, Wp_, rows_per_sample_;
  std::vector<float> input_, unfolded_, out_;
};

}  // namespace sc::cpu
