#include "kernels/upsample_nearest2x_nhwc.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y) {
  const char* op = "upsample_nearest2x_nhwc";
  check_dim(x, 4, op, "x");
  check_contiguous(x, op, "x");
  check_contiguous(y, op, "y");
  check_same_device(x, y, op);
  SC_CHECK(y.dtype() == x.dtype() && y.shape() == Shape({x.size(0), 2 * x.size(1), 2 * x.size(2), x.size(3)}),
           op, ": y must be [", x.size(0), ", ", 2 * x.size(1), ", ", 2 * x.size(2), ", ", x.size(3), "] of ",
           dtype_name(x.dtype()), ", got ", y.describe());
  if (y.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::upsample_nearest2x_nhwc(x, y), cuda::upsample_nearest2x_nhwc(x, y));
}

}  // namespace sc::ops
