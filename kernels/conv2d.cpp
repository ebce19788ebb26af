#include "kernels/conv2d.h"

#include <utility>

#include "kernels/dispatch.h"

namespace sc {

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

namespace ops {

namespace {
// Two 4-D float32 operands, contiguous, on one device, and sane parameters.
void check_conv_operands(const Tensor& a, const char* a_name, const Tensor& b, const char* b_name,
                         const Conv2dParams& p, const char* op) {
  for (const auto& [t, name] : {std::pair{&a, a_name}, std::pair{&b, b_name}}) {
    check_dtype(*t, DType::F32, op, name);
    check_dim(*t, 4, op, name);
    check_contiguous(*t, op, name);
  }
  check_same_device(a, b, op);
  SC_CHECK(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 && p.dilation_w > 0 && p.pad_h >= 0 &&
               p.pad_w >= 0 && p.groups > 0,
           op, ": stride and dilation must be positive, padding non-negative, groups positive");
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Backend backend) {
  check_conv_operands(x, "x", w, "weight", p, "conv2d");
  const int64_t C = x.size(1), O = w.size(0);
  SC_CHECK(C % p.groups == 0 && O % p.groups == 0, "conv2d: groups=", p.groups, " must divide input channels ", C,
           " and output channels ", O);
  SC_CHECK(w.size(1) * p.groups == C, "conv2d: weight ", w.describe(), " expects ", w.size(1) * p.groups,
           " input channels with groups=", p.groups, ", but x is ", x.describe());
  if (bias.defined()) {
    check_dtype(bias, DType::F32, "conv2d", "bias");
    check_same_device(x, bias, "conv2d");
    SC_CHECK(bias.dim() == 1 && bias.size(0) == O, "conv2d: bias must be [", O, "], got ", bias.describe());
  }
  const int64_t Ho = conv_out_size(x.size(2), w.size(2), p.stride_h, p.pad_h, p.dilation_h);
  const int64_t Wo = conv_out_size(x.size(3), w.size(3), p.stride_w, p.pad_w, p.dilation_w);
  SC_CHECK(Ho > 0 && Wo > 0, "conv2d: input ", x.describe(), " is smaller than the (dilated) kernel ",
           w.describe());
  Tensor y = Tensor::empty({x.size(0), O, Ho, Wo}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  [[maybe_unused]] const bool vendor = resolve_backend(backend) == Backend::Vendor;
  SC_DISPATCH(x.device(), cpu::conv2d(x, w, bias, p, y),
              vendor ? cuda::conv2d_cudnn(x, w, bias, p, y) : cuda::conv2d(x, w, bias, p, y));
  return y;
}

Tensor conv2d_backward_input(const Tensor& dy, const Tensor& w, int64_t x_h, int64_t x_w,
                             const Conv2dParams& p) {
  const char* op = "conv2d_backward_input";
  check_conv_operands(dy, "dy", w, "weight", p, op);
  const int64_t O = w.size(0);
  SC_CHECK(O % p.groups == 0, op, ": groups=", p.groups, " must divide output channels ", O);
  SC_CHECK(dy.size(1) == O, op, ": dy ", dy.describe(), " must have the weight's ", O, " output channels");
  SC_CHECK(x_h > 0 && x_w > 0, op, ": input size must be positive, got ", x_h, "x", x_w);
  const int64_t Ho = conv_out_size(x_h, w.size(2), p.stride_h, p.pad_h, p.dilation_h);
  const int64_t Wo = conv_out_size(x_w, w.size(3), p.stride_w, p.pad_w, p.dilation_w);
  SC_CHECK(Ho == dy.size(2) && Wo == dy.size(3), op, ": a ", x_h, "x", x_w, " input gives ", Ho, "x", Wo,
           " outputs with weight ", w.describe(), ", but dy is ", dy.describe());
  Tensor dx = Tensor::empty({dy.size(0), w.size(1) * p.groups, x_h, x_w}, DType::F32, dy.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(dy.device(), cpu::conv2d_backward_input(dy, w, p, dx),
              cuda::conv2d_backward_input(dy, w, p, dx));
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& dy, int64_t kernel_h, int64_t kernel_w,
                              const Conv2dParams& p) {
  const char* op = "conv2d_backward_weight";
  check_conv_operands(x, "x", dy, "dy", p, op);
  const int64_t C = x.size(1), O = dy.size(1);
  SC_CHECK(kernel_h > 0 && kernel_w > 0, op, ": kernel size must be positive, got ", kernel_h, "x", kernel_w);
  SC_CHECK(C % p.groups == 0 && O % p.groups == 0, op, ": groups=", p.groups, " must divide input channels ",
           C, " and output channels ", O);
  SC_CHECK(dy.size(0) == x.size(0), op, ": dy ", dy.describe(), " and x ", x.describe(), " differ in batch");
  const int64_t Ho = conv_out_size(x.size(2), kernel_h, p.stride_h, p.pad_h, p.dilation_h);
  const int64_t Wo = conv_out_size(x.size(3), kernel_w, p.stride_w, p.pad_w, p.dilation_w);
  SC_CHECK(Ho > 0 && Wo > 0, op, ": input ", x.describe(), " is smaller than the (dilated) ", kernel_h, "x",
           kernel_w, " kernel");
  SC_CHECK(Ho == dy.size(2) && Wo == dy.size(3), op, ": x ", x.describe(), " and a ", kernel_h, "x", kernel_w,
           " kernel give ", Ho, "x", Wo, " outputs, but dy is ", dy.describe());
  Tensor dw = Tensor::empty({O, C / p.groups, kernel_h, kernel_w}, DType::F32, x.device());
  if (x.size(0) == 0) return Tensor::zeros(dw.shape(), DType::F32, x.device());
  SC_DISPATCH(x.device(), cpu::conv2d_backward_weight(x, dy, p, dw),
              cuda::conv2d_backward_weight(x, dy, p, dw));
  return dw;
}

}  // namespace ops
}  // namespace sc
