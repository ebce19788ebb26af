// One thread per output element, moved as raw bits of the element's size.
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

}  // namespace

void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y) {
  const long long n = y.numel();
  const int H = static_cast<int>(x.size(1)), W = static_cast<int>(x.size(2)), C = static_cast<int>(x.size(3));
  auto launch = [&]<typename T>() {
    SC_LAUNCH(grid_for(n), kThreads, 0, upsample_nearest2x_nhwc_kernel<T>)(
        static_cast<const T*>(x.raw_data()), static_cast<T*>(y.raw_data()), n, H, W, C);
    SC_CUDA_LAUNCH_CHECK("upsample_nearest2x_nhwc_kernel");
  };
  switch (dtype_size(x.dtype())) {
    case 1:
      launch.template operator()<uint8_t>();
      break;
    case 2:
      launch.template operator()<uint16_t>();
      break;
    case 4:
      launch.template operator()<uint32_t>();
      break;
    default:
      launch.template operator()<unsigned long long>();
      break;
  }
}

}  // namespace sc::cuda
