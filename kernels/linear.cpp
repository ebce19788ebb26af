#include "kernels/linear.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Backend backend) {
  check_dtype(x, DType::F32, "linear", "x");
  check_dtype(w, DType::F32, "linear", "weight");
  check_dim(x, 2, "linear", "x");
  check_dim(w, 2, "linear", "weight");
  check_contiguous(x, "linear", "x");
  check_contiguous(w, "linear", "weight");
  check_same_device(x, w, "linear");
  SC_CHECK(x.size(1) == w.size(1), "linear: x ", x.describe(), " has ", x.size(1), " features but weight ",
           w.describe(), " expects ", w.size(1));
  if (bias.defined()) {
    check_dtype(bias, DType::F32, "linear", "bias");
    check_same_device(x, bias, "linear");
    SC_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0), "linear: bias must be [", w.size(0), "], got ",
             bias.describe());
  }
  Tensor y = Tensor::empty({x.size(0), w.size(0)}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  [[maybe_unused]] const bool vendor = resolve_backend(backend) == Backend::Vendor;
  SC_DISPATCH(x.device(), cpu::linear(x, w, bias, y),
              vendor ? cuda::linear_cublas(x, w, bias, y) : cuda::linear(x, w, bias, y));
  return y;
}

}  // namespace sc::ops
