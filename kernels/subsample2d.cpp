#include "kernels/subsample2d.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor subsample2d(const Tensor& x, int64_t stride) {
  check_dtype(x, DType::F32, "subsample2d", "x");
  check_dim(x, 4, "subsample2d", "x");
  check_contiguous(x, "subsample2d", "x");
  SC_CHECK(stride > 0, "subsample2d: stride must be positive, got ", stride);
  const int64_t Ho = (x.size(2) + stride - 1) / stride, Wo = (x.size(3) + stride - 1) / stride;
  Tensor y = Tensor::empty({x.size(0), x.size(1), Ho, Wo}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::subsample2d(x, stride, y), cuda::subsample2d(x, stride, y));
  return y;
}

Tensor subsample2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w, int64_t stride) {
  check_dtype(dy, DType::F32, "subsample2d_backward", "dy");
  check_dim(dy, 4, "subsample2d_backward", "dy");
  check_contiguous(dy, "subsample2d_backward", "dy");
  SC_CHECK(stride > 0, "subsample2d_backward: stride must be positive, got ", stride);
  SC_CHECK(x_h > 0 && x_w > 0 && (x_h + stride - 1) / stride == dy.size(2) &&
               (x_w + stride - 1) / stride == dy.size(3),
           "subsample2d_backward: a ", x_h, "x", x_w, " input subsampled by ", stride, " does not give dy ",
           dy.describe());
  Tensor dx = Tensor::empty({dy.size(0), dy.size(1), x_h, x_w}, DType::F32, dy.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(dy.device(), cpu::subsample2d_backward(dy, stride, dx),
              cuda::subsample2d_backward(dy, stride, dx));
  return dx;
}

}  // namespace sc::ops
