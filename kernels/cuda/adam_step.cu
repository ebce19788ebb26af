#include "kernels/adam_step.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
// The CPU loop's float arithmetic, each operation rounded on its own (no contraction into FMAs), so both
// back ends give the same bits.
__global__ void adam_step_kernel(float* w, const float* g, float* m, float* v, AdamScalars s, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const float d = __fadd_rn(g[i], __fmul_rn(s.weight_decay, w[i]));
    m[i] = __fadd_rn(__fmul_rn(s.beta1, m[i]), __fmul_rn(s.one_minus_beta1, d));
    v[i] = __fadd_rn(__fmul_rn(s.beta2, v[i]), __fmul_rn(__fmul_rn(s.one_minus_beta2, d), d));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v[i]), s.sqrt_correction2), s.eps);
    w[i] = __fsub_rn(w[i], __fmul_rn(s.lr_corrected, __fdiv_rn(m[i], denom)));
  }
}
}  // namespace

void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, const AdamScalars& s) {
  const long long n = param.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, adam_step_kernel)
  (param.data<float>(), grad.data<float>(), exp_avg.data<float>(), exp_avg_sq.data<float>(), s, n);
  SC_CUDA_LAUNCH_CHECK("adam_step_kernel");
}

}  // namespace sc::cuda
