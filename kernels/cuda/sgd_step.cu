#include "kernels/cuda/common.cuh"
#include "kernels/sgd_step.h"

namespace sc::cuda {

namespace {
// The CPU loop's float arithmetic, each product and sum rounded on its own (no contraction into FMAs), so
// both back ends give the same bits.
__global__ void sgd_step_kernel(float* w, const float* g, float* b, float lr, float m, float wd,
                                bool nesterov, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    float d = __fadd_rn(g[i], __fmul_rn(wd, w[i]));
    if (b) {
      b[i] = __fadd_rn(__fmul_rn(m, b[i]), d);
      d = nesterov ? __fadd_rn(d, __fmul_rn(m, b[i])) : b[i];
    }
    w[i] = __fsub_rn(w[i], __fmul_rn(lr, d));
  }
}
}  // namespace

void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p) {
  const long long n = param.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, sgd_step_kernel)
  (param.data<float>(), grad.data<float>(), p.momentum > 0 ? buffer.data<float>() : nullptr,
   static_cast<float>(p.lr), static_cast<float>(p.momentum), static_cast<float>(p.weight_decay), p.nesterov,
   n);
  SC_CUDA_LAUNCH_CHECK("sgd_step_kernel");
}

}  // namespace sc::cuda
