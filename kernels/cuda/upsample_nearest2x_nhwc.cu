// One thread per `unit` bytes of an output pixel (move_unit: up to 16, 8 bf16 channels), moved as raw bits.
#include "kernels/cuda/common.cuh"
#include "kernels/upsample_nearest2x_nhwc.h"

namespace sc::cuda {
namespace {

template <typename T>
__global__ void upsample_nearest2x_nhwc_kernel(const T* __restrict__ x, T* __restrict__ y, long long n, int H,
                                               int W, int C) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int c = static_cast<int>(i % C);
    long long r = i / C;
    const int j = static_cast<int>(r % (2 * W));
    r /= 2 * W;
    const int row = static_cast<int>(r % (2 * H));
    const long long nn = r / (2 * H);
    y[i] = x[((nn * H + row / 2) * W + j / 2) * C + c];
  }
}

template <typename U>
void launch(const Tensor& x, Tensor& y, int pixel_units) {
  const long long n = y.nbytes() / sizeof(U);
  SC_LAUNCH(grid_for(n), kThreads, 0, upsample_nearest2x_nhwc_kernel<U>)(
      static_cast<const U*>(x.raw_data()), static_cast<U*>(y.raw_data()), n, static_cast<int>(x.size(1)),
      static_cast<int>(x.size(2)), pixel_units);
  SC_CUDA_LAUNCH_CHECK("upsample_nearest2x_nhwc_kernel");
}

}  // namespace

void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y) {
  const long long pixel_bytes = x.size(3) * dtype_size(x.dtype());
  const int unit = move_unit({pixel_bytes}, {x.raw_data(), y.raw_data()});
  visit_move_unit(unit, [&]<typename U>() { launch<U>(x, y, static_cast<int>(pixel_bytes / unit)); });
}

}  // namespace sc::cuda
