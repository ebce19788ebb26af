// concat: joins tensors along one dimension (all other sizes equal; same dtype and device).
#pragma once
#include <vector>

#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor concat(const std::vector<Tensor>& parts, int64_t dim);
}
namespace cpu {
// Copies part (contiguous) into y's slab [offset, offset + part.size(dim)) along dim.
void concat_part(const Tensor& part, int64_t dim, int64_t offset, Tensor& y);
}  // namespace cpu
namespace cuda {
void concat_part(const Tensor& part, int64_t dim, int64_t offset, Tensor& y);
}
}  // namespace sc
