#include "kernels/cuda/common.cuh"
#include "kernels/elementwise.h"

namespace sc::cuda {

namespace {
template <BinaryOp kOp>
__global__ void binary_kernel(const float* a, const float* b, float* y, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) y[i] = kOp == BinaryOp::Add ? a[i] + b[i] : a[i] * b[i];
}
__global__ void affine_kernel(const float* x, float alpha, float beta, float* y, long long n) {
  // alpha·x + beta rounded twice, like the CPU path (no fused multiply-add), so both agree to the bit.
  SC_GRID_STRIDE_LOOP(i, n) y[i] = __fadd_rn(__fmul_rn(alpha, x[i]), beta);
}
__global__ void combine_kernel(float a, const float* x, float b, const float* y, float lo, float hi, float* out,
                               long long n) {
  SC_GRID_STRIDE_LOOP(i, n) out[i] = fminf(hi, fmaxf(lo, __fadd_rn(__fmul_rn(a, x[i]), __fmul_rn(b, y[i]))));
}
}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  const long long n = a.numel();
  if (op == BinaryOp::Add)
    SC_LAUNCH(grid_for(n), kThreads, 0, binary_kernel<BinaryOp::Add>)(
        a.data<float>(), b.data<float>(), y.data<float>(), n);
  else
    SC_LAUNCH(grid_for(n), kThreads, 0, binary_kernel<BinaryOp::Mul>)(
        a.data<float>(), b.data<float>(), y.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("binary_kernel");
}

void affine(const Tensor& x, float alpha, float beta, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, affine_kernel)(x.data<float>(), alpha, beta, y.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("affine_kernel");
}

void combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi, Tensor& out) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, combine_kernel)(
      a, x.data<float>(), b, y.data<float>(), lo, hi, out.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("combine_kernel");
}

}  // namespace sc::cuda
