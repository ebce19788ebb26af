// One block per row (float32, bfloat16 or float16 storage): the row's mean and variance in two passes, summed
// in double by block_sum, then the normalized values. The backward pass does the same per row for dx (keeping
// each row's μ and 1/√(σ² + eps)), then one thread per channel sums dγ and dβ down the rows in a fixed order
// (coalesced: neighbouring threads read neighbouring channels of a row).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/layer_norm.h"

namespace sc::cuda {

namespace {
struct RowStats {
  double mean, invstd;
};
template <typename T>
__device__ RowStats row_stats(const T* x, int C, double eps, double* scratch) {
  double sum = 0.0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) sum += load_f32(x + c);
  const double mean = block_sum(sum, scratch) / C;
  double squares = 0.0;
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    squares += (load_f32(x + c) - mean) * (load_f32(x + c) - mean);
  return {mean, 1.0 / sqrt(block_sum(squares, scratch) / C + eps)};
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const T* x, const float* w, const float* b, double eps, T* y, int C) {
  __shared__ double scratch[32];
  const long long offset = static_cast<long long>(blockIdx.x) * C;
  const RowStats s = row_stats(x + offset, C, eps, scratch);
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    store_f32(y + offset + c,
              static_cast<float>((load_f32(x + offset + c) - s.mean) * s.invstd * w[c] + b[c]));
}

__global__ void __launch_bounds__(kThreads)
    layer_norm_dx_kernel(const float* dy, const float* x, const float* w, double eps, float* dx, float* stats,
                         int C) {
  __shared__ double scratch[32];
  const long long offset = static_cast<long long>(blockIdx.x) * C;
  const RowStats s = row_stats(x + offset, C, eps, scratch);
  double sum_g = 0.0, sum_gx = 0.0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const double gc = static_cast<double>(w[c]) * dy[offset + c];
    sum_g += gc;
    sum_gx += gc * (x[offset + c] - s.mean) * s.invstd;
  }
  const double mean_g = block_sum(sum_g, scratch) / C, mean_gx = block_sum(sum_gx, scratch) / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const double xhat = (x[offset + c] - s.mean) * s.invstd;
    dx[offset + c] =
        static_cast<float>((static_cast<double>(w[c]) * dy[offset + c] - mean_g - xhat * mean_gx) * s.invstd);
  }
  if (threadIdx.x == 0) {
    stats[2 * blockIdx.x] = static_cast<float>(s.mean);
    stats[2 * blockIdx.x + 1] = static_cast<float>(s.invstd);
  }
}

__global__ void layer_norm_parameter_grad_kernel(const float* dy, const float* x, const float* stats,
                                                 float* dw, float* db, long long rows, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double sum_w = 0.0, sum_b = 0.0;
  for (long long r = 0; r < rows; ++r) {
    const float d = dy[r * C + c];
    sum_w += static_cast<double>(d) * ((x[r * C + c] - static_cast<double>(stats[2 * r])) * stats[2 * r + 1]);
    sum_b += d;
  }
  dw[c] = static_cast<float>(sum_w);
  db[c] = static_cast<float>(sum_b);
}

void check_rows(long long rows) {
  SC_CHECK(rows <= 0x7fffffffLL, "layer_norm (CUDA): ", rows, " rows are more than one launch takes");
}
}  // namespace

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y) {
  const int C = static_cast<int>(x.size(-1));
  const long long rows = x.numel() / C;
  check_rows(rows);
  visit_float_storage(x.dtype(), "layer_norm", [&](auto t) {
    using T = decltype(t);
    SC_LAUNCH(static_cast<unsigned>(rows), kThreads, 0, layer_norm_kernel<T>)
    (x.data<T>(), weight.data<float>(), bias.data<float>(), eps, y.data<T>(), C);
  });
  SC_CUDA_LAUNCH_CHECK("layer_norm_kernel");
}

void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps,
                         LayerNormGradients& g) {
  const int C = static_cast<int>(x.size(-1));
  const long long rows = x.numel() / C;
  check_rows(rows);
  Tensor stats = Tensor::empty({rows, 2}, DType::F32, x.device());
  if (rows > 0) {
    SC_LAUNCH(static_cast<unsigned>(rows), kThreads, 0, layer_norm_dx_kernel)
    (dy.data<float>(), x.data<float>(), weight.data<float>(), eps, g.dx.data<float>(), stats.data<float>(),
     C);
    SC_CUDA_LAUNCH_CHECK("layer_norm_dx_kernel");
  }
  SC_LAUNCH((C + kThreads - 1) / kThreads, kThreads, 0, layer_norm_parameter_grad_kernel)
  (dy.data<float>(), x.data<float>(), stats.data<float>(), g.dweight.data<float>(), g.dbias.data<float>(),
   rows, C);
  SC_CUDA_LAUNCH_CHECK("layer_norm_parameter_grad_kernel");
}

}  // namespace sc::cuda
