// CPU reference of noisy_input_conv: per row, the noisy normalized sample is built in scratch with exactly
// add_gaussian_noise's and channel_normalize's arithmetic (then rounded to y's type with round_operands),
// then convolved like fused_conv.
#include "kernels/noisy_input_conv.h"

#include <algorithm>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/cpu/normal_noise.h"
#include "smoothing/noise.h"

namespace sc::cpu {
namespace {

template <typename T>
void noisy_input_conv_typed(const NoisyInput& in, const Tensor& w, const Tensor& bias,
                            const FusedConvParams& p, Tensor& y) {
  const int64_t C = in.images.size(1), H = in.images.size(2), W = in.images.size(3), E = C * H * W;
  const NhwcConvShape s{H,         W,         C,          w.size(0),  w.size(1), w.size(2),
                        y.size(1), y.size(2), p.stride_h, p.stride_w, p.pad_h,   p.pad_w};
  const int64_t P = s.P(), O = s.O, rows = y.size(0);
  // The products' operands: float32, or rounded to the 16-bit output type (p.round_operands).
  const auto operand = [round = p.round_operands](float v) { return round ? to_f32(from_f32<T>(v)) : v; };
  const std::vector<float> wt = transposed_float_weights(w.data<float>(), s, operand);
  // Row b → (span, sample index within it).
  std::vector<std::pair<size_t, int64_t>> row_span;
  for (size_t j = 0; j < in.spans.size(); ++j)
    for (int64_t r = 0; r < in.spans[j].rows; ++r) row_span.emplace_back(j, r);
  const float* images = in.images.data<float>();
  const float* mean = in.mean.defined() ? in.mean.data<float>() : nullptr;
  const float* stdv = in.std.defined() ? in.std.data<float>() : nullptr;
  const std::vector<float> bias_row = padded_bias(bias.defined() ? bias.data<float>() : nullptr, s);
  T* yp = y.data<T>();
  const int64_t HW = H * W;

  const int64_t nb = chunk_samples(s, rows), chunks = (rows + nb - 1) / nb;
#pragma omp parallel
  {
    NhwcConvChunk work(s, nb);
    const int64_t ld = work.sums_stride();
    std::vector<float> z(static_cast<size_t>((E + 3) / 4 * 4)), plane(static_cast<size_t>(E));
#pragma omp for schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const int64_t b0 = chunk * nb, count = std::min(nb, rows - b0);
      for (int64_t i = 0; i < count; ++i) {
        const auto [span_index, offset] = row_span[static_cast<size_t>(b0 + i)];
        const SampleSpan& span = in.spans[span_index];
        const float* x = images + span.slot * E;
        const uint32_t index = span.first_sample + static_cast<uint32_t>(offset);
        // The noisy normalized sample in the images' planar order (noise element e = c·H·W + hw), by channel:
        // no division per element, and it vectorizes. Then into the chunk's NHWC input.
        if (in.sigma > 0) sample_normals(in.seed, span.image_id, in.phase, index, 0, (E + 3) / 4, z.data());
        for (int64_t c = 0; c < C; ++c)
          for (int64_t e = c * HW; e < (c + 1) * HW; ++e) {
            float v = in.sigma > 0 ? noise::add(x[e], noise::mul(in.sigma, z[static_cast<size_t>(e)])) : x[e];
            if (mean) v = (v - mean[c]) / stdv[c];
            plane[static_cast<size_t>(e)] = operand(v);
          }
        float* dst = work.input(i);
        for (int64_t h = 0; h < H; ++h, dst += work.input_row())
          if (C == 1)
            copy_floats(dst, plane.data() + h * W, W);
          else
            for (int64_t w = 0; w < W; ++w)
              for (int64_t c = 0; c < C; ++c) dst[w * C + c] = plane[static_cast<size_t>(c * HW + h * W + w)];
      }
      work.multiply(count, wt.data());
      // Epilogue as fused_conv's: bias in place (+ 0 without a bias, as on the GPU), ReLU, then to y.
      T* dst = yp + b0 * P * O;
      for (int64_t i = 0; i < count; ++i)
        for (int64_t oh = 0; oh < s.Ho; ++oh) {
          float* acc = work.sums(i, oh);
          for (int64_t ow = 0; ow < s.Wo; ++ow, acc += ld, dst += O) {
            add_in_place(acc, bias_row.data(), ld);
            if (p.relu) relu_in_place(acc, ld);
            store_channels(dst, acc, O);
          }
        }
    }
  }
}

}  // namespace

void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y) {
  switch (y.dtype()) {
    case DType::F32:
      return noisy_input_conv_typed<float>(in, w, bias, p, y);
    case DType::BF16:
      return noisy_input_conv_typed<BFloat16>(in, w, bias, p, y);
    case DType::F16:
      return noisy_input_conv_typed<Half>(in, w, bias, p, y);
    default:
      SC_FAIL("noisy_input_conv: unsupported dtype ", dtype_name(y.dtype()));
  }
}

}  // namespace sc::cpu
