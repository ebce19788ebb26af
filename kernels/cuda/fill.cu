#include "kernels/cuda/common.cuh"
#include "kernels/fill.h"

namespace sc::cuda {

namespace {
template <typename T>
__global__ void fill_kernel(T* p, long long n, T v) {
  SC_GRID_STRIDE_LOOP(i, n) p[i] = v;
}
__global__ void increment_kernel(int64_t* p, long long n, int64_t by) {
  SC_GRID_STRIDE_LOOP(i, n) p[i] += by;
}
}  // namespace

void fill(Tensor& t, float value) {
  const long long n = t.numel();
  if (n == 0) return;
  visit_dtype(t.dtype(), [&]<typename T>() {
    // Convert on the host with the same rounding the CPU path uses.
    T v;
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
      v = T::from_float(value);
    else
      v = static_cast<T>(value);
    SC_LAUNCH(grid_for(n), kThreads, 0, fill_kernel<T>)(t.data<T>(), n, v);
    SC_CUDA_LAUNCH_CHECK("fill_kernel");
  });
}

void increment(Tensor& t, int64_t by) {
  const long long n = t.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, increment_kernel)(t.data<int64_t>(), n, by);
  SC_CUDA_LAUNCH_CHECK("increment_kernel");
}

}  // namespace sc::cuda
