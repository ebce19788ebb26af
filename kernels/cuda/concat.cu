#include "kernels/concat.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
template <typename T>
__global__ void concat_part_kernel(const T* src, T* dst, long long n, long long block, long long ystride,
                                   long long start) {
  SC_GRID_STRIDE_LOOP(i, n) dst[(i / block) * ystride + start + i % block] = src[i];
}

// Block, row stride and start in units of U.
template <typename U>
void launch(const Tensor& part, Tensor& y, long long block, long long ystride, long long start) {
  const long long n = part.nbytes() / sizeof(U);
  SC_LAUNCH(grid_for(n), kThreads, 0, concat_part_kernel<U>)(
      static_cast<const U*>(part.raw_data()), static_cast<U*>(y.raw_data()), n, block, ystride, start);
  SC_CUDA_LAUNCH_CHECK("concat_part_kernel");
}

}  // namespace

void concat_part(const Tensor& part, int64_t dim, int64_t offset, Tensor& y) {
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < part.dim(); ++d) inner *= part.size(d);
  const long long esize = dtype_size(part.dtype()), block = part.size(dim) * inner * esize,
                  ystride = y.size(dim) * inner * esize, start = offset * inner * esize;
  const int unit = move_unit({block, ystride, start}, {part.raw_data(), y.raw_data()});
  visit_move_unit(unit,
                  [&]<typename U>() { launch<U>(part, y, block / unit, ystride / unit, start / unit); });
}

}  // namespace sc::cuda
