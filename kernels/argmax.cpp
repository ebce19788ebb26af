#include "kernels/argmax.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor argmax(const Tensor& x) {
  check_dtype(x, DType::F32, "argmax", "x");
  check_dim(x, 2, "argmax", "x");
  check_contiguous(x, "argmax", "x");
  SC_CHECK(x.size(1) > 0, "argmax: no classes in ", x.describe());
  Tensor y = Tensor::empty({x.size(0)}, DType::I64, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::argmax(x, y), cuda::argmax(x, y));
  return y;
}

}  // namespace sc::ops
