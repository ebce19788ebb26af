#include "kernels/group_norm_nhwc.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y) {
  const char* op = "group_norm_nhwc";
  check_dim(x, 4, op, "x");
  check_contiguous(x, op, "x");
  check_contiguous(y, op, "y");
  SC_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16 || x.dtype() == DType::F16, op,
           ": x must be float32, bfloat16 or float16, got ", x.describe());
  SC_CHECK(y.dtype() == x.dtype() && y.shape() == x.shape(), op, ": y ", y.describe(), " must match x ",
           x.describe());
  SC_CHECK(y.raw_data() != x.raw_data() || x.numel() == 0, op, ": y may not alias x");
  const int64_t C = x.size(3);
  SC_CHECK(groups > 0 && C % groups == 0, op, ": ", groups, " groups do not divide ", C, " channels");
  SC_CHECK(eps > 0, op, ": eps must be positive");
  for (const Tensor* t : {&gamma, &beta}) {
    check_dtype(*t, DType::F32, op, "gamma/beta");
    check_same_device(x, *t, op);
    SC_CHECK(t->dim() == 1 && t->size(0) == C, op, ": gamma/beta must be [", C, "], got ", t->describe());
  }
  check_same_device(x, y, op);
  SC_CHECK(x.numel() < (int64_t{1} << 31), op, ": tensors over 2^31 elements: split the batch");
  if (x.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::group_norm_nhwc(x, groups, gamma, beta, eps, silu, y),
              cuda::group_norm_nhwc(x, groups, gamma, beta, eps, silu, y));
}

}  // namespace sc::ops
