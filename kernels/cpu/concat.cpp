// A part of shape [outer, d, inner] lands in y [outer, D, inner] at rows [offset, offset + d): outer blocks of
// d·inner contiguous elements.
#include <cstring>

#include "kernels/concat.h"

namespace sc::cpu {

void concat_part(const Tensor& part, int64_t dim, int64_t offset, Tensor& y) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= part.size(d);
  for (int64_t d = dim + 1; d < part.dim(); ++d) inner *= part.size(d);
  const size_t es = dtype_size(part.dtype());
  const int64_t block = part.size(dim) * inner, ystride = y.size(dim) * inner;
  const char* src = static_cast<const char*>(part.raw_data());
  char* dst = static_cast<char*>(y.raw_data());
#pragma omp parallel for schedule(static) if (outer > 64)
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + (o * ystride + offset * inner) * es, src + o * block * es, static_cast<size_t>(block) * es);
}

}  // namespace sc::cpu
