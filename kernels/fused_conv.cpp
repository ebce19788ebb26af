#include "kernels/fused_conv.h"

#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace sc {
namespace {

bool is_activation_dtype(DType d) {
  return d == DType::F32 || d == DType::BF16 || d == DType::F16;
}

void check_f32_vector(const Tensor& t, int64_t size, const Tensor& x, const char* arg) {
  check_dtype(t, DType::F32, "fused_conv", arg);
  check_same_device(x, t, "fused_conv");
  check_contiguous(t, "fused_conv", arg);
  SC_CHECK(t.dim() == 1 && t.size(0) == size, "fused_conv: ", arg, " must be [", size, "], got ",
           t.describe());
}

Shape output_shape(const Tensor& x, const Tensor& w, const FusedConvParams& p) {
  check_dim(x, 4, "fused_conv", "x");
  check_dim(w, 4, "fused_conv", "weight");
  SC_CHECK(p.stride_h > 0 && p.stride_w > 0 && p.pad_h >= 0 && p.pad_w >= 0,
           "fused_conv: stride must be positive and padding non-negative");
  const int64_t Ho = conv_out_size(x.size(1), w.size(1), p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(x.size(2), w.size(2), p.stride_w, p.pad_w, 1);
  SC_CHECK(Ho > 0 && Wo > 0, "fused_conv: input ", x.describe(), " is smaller than the kernel ",
           w.describe());
  return {x.size(0), Ho, Wo, w.size(0)};
}

}  // namespace

namespace ops {

void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y) {
  const Shape out = output_shape(x, w, p);
  SC_CHECK(is_activation_dtype(x.dtype()), "fused_conv: x must be float32, bfloat16 or float16, got ",
           x.describe());
  SC_CHECK(w.dtype() == x.dtype() && y.dtype() == x.dtype(),
           "fused_conv: x, weight and y must share a dtype, got ", x.describe(), ", ", w.describe(), ", ",
           y.describe());
  SC_CHECK(!p.tf32 || x.dtype() == DType::F32, "fused_conv: tf32 rounding applies to float32 operands only");
  SC_CHECK(!(p.relu && p.gelu), "fused_conv: one activation on the output, ReLU or GELU");
  SC_CHECK(!p.round_operands,
           "fused_conv: round_operands is noisy_input_conv's (fused_conv's 16-bit operands are "
           "stored so)");
  check_contiguous(x, "fused_conv", "x");
  check_contiguous(w, "fused_conv", "weight");
  check_contiguous(y, "fused_conv", "y");
  check_same_device(x, w, "fused_conv");
  check_same_device(x, y, "fused_conv");
  SC_CHECK(w.size(3) == x.size(3), "fused_conv: weight ", w.describe(), " expects ", w.size(3),
           " input channels, x is ", x.describe());
  SC_CHECK(y.shape() == out, "fused_conv: y must be ", shape_str(out), ", got ", y.describe());
  const int64_t C = x.size(3), O = w.size(0);
  if (bias.defined()) check_f32_vector(bias, O, x, "bias");
  SC_CHECK(scale.defined() == shift.defined(), "fused_conv: the prologue needs both scale and shift");
  SC_CHECK(scale.defined() || !p.prologue_relu, "fused_conv: a prologue ReLU needs scale and shift");
  if (scale.defined()) {
    check_f32_vector(scale, C, x, "scale");
    check_f32_vector(shift, C, x, "shift");
  }
  if (residual.defined()) {
    check_dim(residual, 4, "fused_conv", "residual");
    check_contiguous(residual, "fused_conv", "residual");
    check_same_device(x, residual, "fused_conv");
    SC_CHECK(residual.dtype() == x.dtype(), "fused_conv: residual must be ", dtype_name(x.dtype()), ", got ",
             residual.describe());
    const int64_t rs = p.residual_stride, roff = p.residual_channel_offset;
    SC_CHECK(rs > 0 && roff >= 0 && roff + residual.size(3) <= O, "fused_conv: residual channels ",
             residual.size(3), " at offset ", roff, " do not fit ", O, " output channels");
    SC_CHECK(residual.size(0) == out[0] && (out[1] - 1) * rs < residual.size(1) &&
                 (out[2] - 1) * rs < residual.size(2),
             "fused_conv: residual ", residual.describe(), " with stride ", rs, " does not cover the output ",
             shape_str(out));
  }
  SC_CHECK(x.numel() < (int64_t{1} << 31) && y.numel() < (int64_t{1} << 31) && w.numel() < (int64_t{1} << 31),
           "fused_conv: tensors over 2^31 elements: split the batch");
  if (y.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::fused_conv(x, w, bias, scale, shift, residual, p, y),
              cuda::fused_conv(x, w, bias, scale, shift, residual, p, y));
}

Tensor fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                  const Tensor& shift, const Tensor& residual, const FusedConvParams& p) {
  Tensor y = Tensor::empty(output_shape(x, w, p), x.dtype(), x.device());
  fused_conv(x, w, bias, scale, shift, residual, p, y);
  return y;
}

}  // namespace ops

#ifndef SMOOTHCUDA_HAVE_CUDA
// A CPU-only build has no CUDA side; the GPU tests and benchmarks still ask (and skip).
bool cuda::fused_conv_uses_wgmma(const Tensor&, const Tensor&, const Tensor&, const FusedConvParams&,
                                 const Tensor&) {
  return false;
}
#endif

}  // namespace sc
