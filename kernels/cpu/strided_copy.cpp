#include "kernels/strided_copy.h"

#include <cstring>

namespace sc::cpu {

void strided_copy(const Tensor& src, Tensor& dst) {
  const size_t es = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  const int64_t n = src.numel(), nd = src.dim();
  if (src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(d, s, static_cast<size_t>(n) * es);
    return;
  }
  const auto& shape = src.shape();
  const auto& ss = src.strides();
  const auto& ds = dst.strides();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    // Unravel the linear index i (C order) into element offsets of both tensors.
    int64_t rem = i, so = 0, dof = 0;
    for (int64_t k = nd - 1; k >= 0; --k) {
      const int64_t c = rem % shape[k];
      rem /= shape[k];
      so += c * ss[k];
      dof += c * ds[k];
    }
    std::memcpy(d + dof * es, s + so * es, es);
  }
}

}  // namespace sc::cpu
