#include "kernels/cuda/common.cuh"
#include "kernels/ddpm_step.h"
#include "kernels/ddpm_step_formula.h"

namespace sc::cuda {

namespace {
__global__ void ddpm_step_kernel(const float* x, const float* eps, const float* v, const float* z, DdpmCoefficients c,
                                 float* out, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) out[i] = ddpm_step_value(x[i], eps[i], v ? v + i : nullptr, z ? z + i : nullptr, c);
}
}  // namespace

void ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c,
               Tensor& out) {
  const long long n = x_t.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, ddpm_step_kernel)(
      x_t.data<float>(), eps.data<float>(), v.defined() ? v.data<float>() : nullptr,
      z.defined() ? z.data<float>() : nullptr, c, out.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("ddpm_step_kernel");
}

}  // namespace sc::cuda
