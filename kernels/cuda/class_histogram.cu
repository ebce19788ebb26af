// Per-block histograms in shared memory (few classes, many labels), then one atomic add per class and block.
#include "kernels/class_histogram.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
constexpr int kSharedClasses = 4096;

__global__ void class_histogram_shared_kernel(const int64_t* labels, unsigned long long* counts, long long n, int K) {
  __shared__ unsigned int local[kSharedClasses];
  for (int k = threadIdx.x; k < K; k += blockDim.x) local[k] = 0;
  __syncthreads();
  SC_GRID_STRIDE_LOOP(i, n) {
    const int64_t l = labels[i];
    if (l >= 0 && l < K) atomicAdd(&local[l], 1u);
  }
  __syncthreads();
  for (int k = threadIdx.x; k < K; k += blockDim.x)
    if (local[k]) atomicAdd(&counts[k], static_cast<unsigned long long>(local[k]));
}

__global__ void class_histogram_global_kernel(const int64_t* labels, unsigned long long* counts, long long n,
                                              long long K) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int64_t l = labels[i];
    if (l >= 0 && l < K) atomicAdd(&counts[l], 1ull);
  }
}
}  // namespace

void class_histogram_accumulate(const Tensor& labels, Tensor& counts) {
  const long long n = labels.numel(), K = counts.numel();
  // int64 counts are updated as unsigned 64-bit words: the same bits for non-negative values.
  auto* c = reinterpret_cast<unsigned long long*>(counts.data<int64_t>());
  if (K <= kSharedClasses) {
    SC_LAUNCH(grid_for(n, kThreads, 1024), kThreads, 0, class_histogram_shared_kernel)(
        labels.data<int64_t>(), c, n, static_cast<int>(K));
  } else {
    SC_LAUNCH(grid_for(n), kThreads, 0, class_histogram_global_kernel)(labels.data<int64_t>(), c, n, K);
  }
  SC_CUDA_LAUNCH_CHECK("class_histogram_kernel");
}

}  // namespace sc::cuda
