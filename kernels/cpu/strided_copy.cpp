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
  if (n == 0) return;
  if (nd == 0) {
    std::memcpy(d, s, es);
    return;
  }
  // Row by row along the last dimension: a row's offsets are unravelled once (the divisions per element had
  // cost more than the copy), then its elements copied at their strides, in one block where both are 1.
  const auto& shape = src.shape();
  const auto& ss = src.strides();
  const auto& ds = dst.strides();
  const int64_t inner = shape[nd - 1], s_step = ss[nd - 1], d_step = ds[nd - 1], rows = n / inner;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, so = 0, dof = 0;
    for (int64_t k = nd - 2; k >= 0; --k) {
      const int64_t c = rem % shape[k];
      rem /= shape[k];
      so += c * ss[k];
      dof += c * ds[k];
    }
    if (s_step == 1 && d_step == 1) {
      std::memcpy(d + dof * es, s + so * es, static_cast<size_t>(inner) * es);
      continue;
    }
    for (int64_t j = 0; j < inner; ++j)
      std::memcpy(d + (dof + j * d_step) * es, s + (so + j * s_step) * es, es);
  }
}

}  // namespace sc::cpu
