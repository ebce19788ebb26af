// CPU reference of fused_conv: per chunk of samples, unfold with the prologue applied, multiply in float32,
// then bias, residual and ReLU or GELU, rounded once to the storage type.
#include "kernels/fused_conv.h"

#include <algorithm>

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
  const int64_t N = x.size(0), K = s.K(), P = s.P(), C = s.C, O = s.O;
  const bool tf32 = p.tf32;
  const auto round = [tf32](float v) { return tf32 ? round_tf32(v) : v; };
  const std::vector<float> wf = float_weights(w.data<T>(), O, K, round);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  const T* rp = residual.defined() ? residual.data<T>() : nullptr;
  const int64_t Hr = rp ? residual.size(1) : 0, Wr = rp ? residual.size(2) : 0,
                Cr = rp ? residual.size(3) : 0;
  const int64_t rs = p.residual_stride, roff = p.residual_channel_offset;
  const bool pro_relu = p.prologue_relu, relu = p.relu, gelu = p.gelu;

  const int64_t nb = chunk_samples(s, N), chunks = (N + nb - 1) / nb;
#pragma omp parallel
  {
    std::vector<float> in(static_cast<size_t>(nb * s.H * s.W * C)), col(static_cast<size_t>(K * nb * P)),
        out(static_cast<size_t>(O * nb * P));
#pragma omp for schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t n0 = chunk * nb, count = std::min(nb, N - n0), J = count * P;
      // The chunk's input as float planes with the prologue (and TF32 rounding) applied once per element.
      const T* xc = xp + n0 * s.H * s.W * C;
      const int64_t HW = s.H * s.W;
      for (int64_t n = 0; n < count; ++n)
        for (int64_t hw = 0; hw < HW; ++hw)
          for (int64_t c = 0; c < C; ++c) {
            float v = to_f32(xc[(n * HW + hw) * C + c]);
            if (sc) v = sc[c] * v + sh[c];
            if (pro_relu) v = std::max(v, 0.0f);
            in[static_cast<size_t>((n * C + c) * HW + hw)] = round(v);
          }
      conv_chunk_planar(s, count, in.data(), wf.data(), col.data(), out.data());
      for (int64_t j = 0; j < J; ++j) {
        const int64_t n = n0 + j / P, p = j % P, oh = p / s.Wo, ow = p % s.Wo;
        T* dst = yp + (n * P + p) * O;
        const T* res = rp ? rp + ((n * Hr + oh * rs) * Wr + ow * rs) * Cr : nullptr;
        for (int64_t o = 0; o < O; ++o) {
          float v = out[static_cast<size_t>(o * J + j)] + (bp ? bp[o] : 0.0f);
          if (res && o >= roff && o < roff + Cr) v += to_f32(res[o - roff]);
          if (relu) v = std::max(v, 0.0f);
          if (gelu) v = gelu_value(v);
          dst[o] = from_f32<T>(v);
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
