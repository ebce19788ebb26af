#include "kernels/ddpm_step.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c) {
  check_dtype(x_t, DType::F32, "ddpm_step", "x_t");
  check_contiguous(x_t, "ddpm_step", "x_t");
  for (const Tensor* t : {&eps, &v, &z}) {
    if (t != &eps && !t->defined()) continue;
    check_dtype(*t, DType::F32, "ddpm_step", "eps/v/z");
    check_contiguous(*t, "ddpm_step", "eps/v/z");
    check_same_device(x_t, *t, "ddpm_step");
    check_same_shape(x_t, *t, "ddpm_step");
  }
  Tensor out = Tensor::empty(x_t.shape(), DType::F32, x_t.device());
  if (out.numel() == 0) return out;
  SC_DISPATCH(x_t.device(), cpu::ddpm_step(x_t, eps, v, z, c, out), cuda::ddpm_step(x_t, eps, v, z, c, out));
  return out;
}

}  // namespace sc::ops
