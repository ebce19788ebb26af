#include "kernels/pool2d_nhwc.h"

#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace sc::ops {

Shape pool2d_nhwc_shape(const Tensor& x, const Pool2dParams& p) {
  check_dim(x, 4, "pool2d_nhwc", "x");
  SC_CHECK(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0 && p.pad_h >= 0 &&
               p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w,
           "pool2d_nhwc: kernel and stride must be positive, padding at most half the kernel");
  const int64_t Ho = conv_out_size(x.size(1), p.kernel_h, p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(x.size(2), p.kernel_w, p.stride_w, p.pad_w, 1);
  SC_CHECK(Ho > 0 && Wo > 0, "pool2d_nhwc: input ", x.describe(), " is smaller than the window");
  return {x.size(0), Ho, Wo, x.size(3)};
}

void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const Shape out = pool2d_nhwc_shape(x, p);
  SC_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16 || x.dtype() == DType::F16,
           "pool2d_nhwc: x must be float32, bfloat16 or float16, got ", x.describe());
  check_contiguous(x, "pool2d_nhwc", "x");
  check_contiguous(y, "pool2d_nhwc", "y");
  check_same_device(x, y, "pool2d_nhwc");
  SC_CHECK(y.dtype() == x.dtype() && y.shape() == out, "pool2d_nhwc: y must be ", dtype_name(x.dtype()),
           shape_str(out), ", got ", y.describe());
  if (y.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::pool2d_nhwc(kind, x, p, y), cuda::pool2d_nhwc(kind, x, p, y));
}

}  // namespace sc::ops
