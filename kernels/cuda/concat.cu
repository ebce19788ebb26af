#include "kernels/concat.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
template <typename T>
__global__ void concat_part_kernel(const T* src, T* dst, long long n, long long block, long long ystride,
                                   long long start) {
  SC_GRID_STRIDE_LOOP(i, n) dst[(i / block) * ystride + start + i % block] = src[i];
}
}  // namespace

void concat_part(const Tensor& part, int64_t dim, int64_t offset, Tensor& y) {
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < part.dim(); ++d) inner *= part.size(d);
  const long long n = part.numel(), block = part.size(dim) * inner, ystride = y.size(dim) * inner;
  auto launch = [&]<typename T>() {
    SC_LAUNCH(grid_for(n), kThreads, 0, concat_part_kernel<T>)(
        static_cast<const T*>(part.raw_data()), static_cast<T*>(y.raw_data()), n, block, ystride, offset * inner);
    SC_CUDA_LAUNCH_CHECK("concat_part_kernel");
  };
  switch (dtype_size(part.dtype())) {
    case 1: launch.template operator()<uint8_t>(); break;
    case 2: launch.template operator()<uint16_t>(); break;
    case 4: launch.template operator()<uint32_t>(); break;
    default: launch.template operator()<unsigned long long>(); break;
  }
}

}  // namespace sc::cuda
