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

}  // namespace sc::ops
