#include "kernels/last_dim_affine.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor last_dim_affine(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  const char* op = "last_dim_affine";
  check_dtype(x, DType::F32, op, "x");
  check_contiguous(x, op, "x");
  SC_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": x ", x.describe(), " has no last dimension to scale");
  for (const auto& [t, name] : {std::pair{&scale, "scale"}, std::pair{&shift, "shift"}}) {
    if (!t->defined()) continue;
    check_dtype(*t, DType::F32, op, name);
    check_contiguous(*t, op, name);
    check_same_device(x, *t, op);
    SC_CHECK(t->shape() == Shape({x.size(-1)}), op, ": ", name, " must be [", x.size(-1), "], got ",
             t->describe());
  }
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::last_dim_affine(x, scale, shift, y),
              cuda::last_dim_affine(x, scale, shift, y));
  return y;
}

}  // namespace sc::ops
