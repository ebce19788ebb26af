// Hand-written linear: C[N, out] = X[N, in] · Wᵀ, with W read k-contiguous as B(k, n) = W[n, k].
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/linear.h"

namespace sc::cuda {

namespace {
struct LoadRows {
  const float* p;
  int ld;
  __device__ float operator()(int, int m, int k) const { return p[static_cast<long long>(m) * ld + k]; }
};
struct LoadTransposed {
  const float* p;
  int ld;
  __device__ float operator()(int, int k, int n) const { return p[static_cast<long long>(n) * ld + k]; }
};
struct StoreBias {
  float* y;
  const float* bias;
  int ld;
  __device__ void operator()(int, int m, int n, float v) const {
    y[static_cast<long long>(m) * ld + n] = v + (bias ? bias[n] : 0.0f);
  }
};
}  // namespace

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const int N = static_cast<int>(x.size(0)), I = static_cast<int>(x.size(1)), O = static_cast<int>(w.size(0));
  launch_gemm_tile<true>(N, O, I, 1, LoadRows{x.data<float>(), I}, LoadTransposed{w.data<float>(), I},
                         StoreBias{y.data<float>(), bias.defined() ? bias.data<float>() : nullptr, O},
                         "linear gemm_tile_kernel");
}

}  // namespace sc::cuda
