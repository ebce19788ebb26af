// linear through cuBLAS. Row-major Y[N,out] = X·Wᵀ is, in cuBLAS's column-major view, Yᵀ = W·Xᵀ:
// W's buffer read column-major is Wᵀ [in, out], so op(W) = T; X's buffer read column-major is Xᵀ [in, N].
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/vendor_handles.h"
#include "kernels/linear.h"

namespace sc::cuda {

namespace {
__global__ void add_row_bias_kernel(float* y, const float* bias, long long n, int cols) {
  SC_GRID_STRIDE_LOOP(i, n) y[i] += bias[i % cols];
}
}  // namespace

void linear_cublas(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const int N = static_cast<int>(x.size(0)), I = static_cast<int>(x.size(1)), O = static_cast<int>(w.size(0));
  const float one = 1.0f, zero = 0.0f;
  SC_CUBLAS_CHECK(cublasSgemm(cublas_handle(), CUBLAS_OP_T, CUBLAS_OP_N, O, N, I, &one, w.data<float>(), I,
                              x.data<float>(), I, &zero, y.data<float>(), O));
  if (bias.defined()) {
    const long long n = y.numel();
    SC_LAUNCH(grid_for(n), kThreads, 0, add_row_bias_kernel)(y.data<float>(), bias.data<float>(), n, O);
    SC_CUDA_LAUNCH_CHECK("add_row_bias_kernel");
  }
}

}  // namespace sc::cuda
