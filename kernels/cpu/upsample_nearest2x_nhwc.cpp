#include "kernels/upsample_nearest2x_nhwc.h"

#include <cstring>

namespace sc::cpu {

void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y) {
  const int64_t NH = x.size(0) * x.size(1), W = x.size(2);
  const size_t row =
      static_cast<size_t>(x.size(3)) * dtype_size(x.dtype());  // one pixel's channels, in bytes
  const auto* xp = static_cast<const char*>(x.raw_data());
  auto* yp = static_cast<char*>(y.raw_data());
#pragma omp parallel for schedule(static)
  for (int64_t nh = 0; nh < NH; ++nh)
    for (int64_t di = 0; di < 2; ++di)
      for (int64_t j = 0; j < 2 * W; ++j)
        std::memcpy(yp + ((2 * nh + di) * 2 * W + j) * row, xp + (nh * W + j / 2) * row, row);
}

}  // namespace sc::cpu
