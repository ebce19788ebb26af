#include "kernels/softmax.h"

#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
Tensor run(const Tensor& x, bool log, const char* name) {
  check_dtype(x, DType::F32, name, "x");
  check_dim(x, 2, name, "x");
  check_contiguous(x, name, "x");
  SC_CHECK(x.size(1) > 0, name, ": no classes in ", x.describe());
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::softmax(x, log, y), cuda::softmax(x, log, y));
  return y;
}
}  // namespace

Tensor softmax(const Tensor& x) { return run(x, false, "softmax"); }
Tensor log_softmax(const Tensor& x) { return run(x, true, "log_softmax"); }

}  // namespace sc::ops
