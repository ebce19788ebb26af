// CPU reference of fused_conv: per chunk of samples, unfold with the prologue applied, multiply in float32,
// then bias, residual and ReLU or GELU, rounded once to the storage type.
#include "kernels/fused_conv.h"

#include <algorithm>
#include <type_traits>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/gelu_formula.h"
#include "kernels/tf32_round.h"

namespace sc::cpu {
namespace {

template <typename T>
void fused_conv_typed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                      const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y) {
  const NhwcConvShape s{x.size(1), x.size(2), x.size(3),  w.size(0),  w.size(1), w.size(2),
                        y.size(1), y.size(2), p.stride_h, p.stride_w, p.pad_h,   p.pad_w};
  const int64_t N = x.size(0), P = s.P(), C = s.C, O = s.O;
  const bool tf32 = p.tf32;
  const auto round = [tf32](float v) { return tf32 ? round_tf32(v) : v; };
  const std::vector<float> wt = transposed_float_weights(w.data<T>(), s, round);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  const std::vector<float> bias_row = padded_bias(bp, s);
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  const T* rp = residual.defined() ? residual.data<T>() : nullptr;
  const int64_t Hr = rp ? residual.size(1) : 0, Wr = rp ? residual.size(2) : 0,
                Cr = rp ? residual.size(3) : 0;
  const int64_t rs = p.residual_stride, roff = p.residual_channel_offset, rend = std::min(O, roff + Cr);
  const bool pro_relu = p.prologue_relu, relu = p.relu, gelu = p.gelu;
  // float32 input without prologue or rounding is read as it is where it needs no zero border; otherwise it
  // is transformed once per element into the chunk's scratch.
  const bool transform = !std::is_same_v<T, float> || sc || tf32;
  const int64_t HWC = s.H * s.W * C;

  const int64_t nb = chunk_samples(s, N), chunks = (N + nb - 1) / nb;
#pragma omp parallel
  {
    NhwcConvChunk work(s, nb);
    const int64_t ld = work.sums_stride();
#pragma omp for schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t n0 = chunk * nb, count = std::min(nb, N - n0);
      const T* xc = xp + n0 * HWC;
      const float* as_is = nullptr;  // the chunk's input, where the product reads it in place
      if constexpr (std::is_same_v<T, float>)
        if (!transform && work.reads_unpadded_input()) as_is = xc;
      if (!as_is)
        for (int64_t n = 0; n < count; ++n) {
          float* dst = work.input(n);
          for (int64_t h = 0; h < s.H; ++h, dst += work.input_row(), xc += s.W * C) {
            if constexpr (std::is_same_v<T, float>)
              if (!transform) {  // into the zero border
                copy_floats(dst, xc, s.W * C);
                continue;
              }
            for (int64_t w = 0; w < s.W; ++w)
              for (int64_t c = 0; c < C; ++c) {
                float v = to_f32(xc[w * C + c]);
                if (sc) v = sc[c] * v + sh[c];
                if (pro_relu) v = std::max(v, 0.0f);
                dst[w * C + c] = round(v);
              }
          }
        }
      work.multiply(count, wt.data(), as_is);
      // Epilogue, one output pixel (a row of O channels) at a time: bias and residual added in place, then
      // the activation, then the rounding on the way to y. Each a loop of its own that vectorizes (one loop
      // with every condition inside ran scalar); bias and ReLU over the padded row (conv_nhwc.h).
      T* dst = yp + n0 * P * O;
      for (int64_t n = 0; n < count; ++n)
        for (int64_t oh = 0; oh < s.Ho; ++oh) {
          float* acc = work.sums(n, oh);
          for (int64_t ow = 0; ow < s.Wo; ++ow, acc += ld, dst += O) {
            if (bp) add_in_place(acc, bias_row.data(), ld);
            if (rp) {
              const T* res = rp + (((n0 + n) * Hr + oh * rs) * Wr + ow * rs) * Cr;
              for (int64_t o = roff; o < rend; ++o) acc[o] += to_f32(res[o - roff]);
            }
            if (gelu)
              for (int64_t o = 0; o < O; ++o) acc[o] = gelu_value(acc[o]);
            else if (relu)
              relu_in_place(acc, ld);
            store_channels(dst, acc, O);
          }
        }
    }
  }
}

}  // namespace

void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y) {
  switch (x.dtype()) {
    case DType::F32:
      return fused_conv_typed<float>(x, w, bias, scale, shift, residual, p, y);
    case DType::BF16:
      return fused_conv_typed<BFloat16>(x, w, bias, scale, shift, residual, p, y);
    case DType::F16:
      return fused_conv_typed<Half>(x, w, bias, scale, shift, residual, p, y);
    default:
      SC_FAIL("fused_conv: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cpu
