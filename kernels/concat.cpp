#include "kernels/concat.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor concat(const std::vector<Tensor>& parts, int64_t dim) {
  SC_CHECK(!parts.empty(), "concat: no tensors given");
  const Tensor& first = parts[0];
  check_defined(first, "concat", "parts[0]");
  if (dim < 0) dim += first.dim();
  SC_CHECK(dim >= 0 && dim < first.dim(), "concat: dimension out of range for ", first.describe());
  Shape shape = first.shape();
  shape[dim] = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = parts[i];
    check_defined(t, "concat", "parts[i]");
    SC_CHECK(t.dtype() == first.dtype() && t.device() == first.device() && t.dim() == first.dim(),
             "concat: part ", i, " is ", t.describe(), " but part 0 is ", first.describe());
    for (int64_t d = 0; d < t.dim(); ++d)
      SC_CHECK(d == dim || t.size(d) == first.size(d), "concat: part ", i, " ", t.describe(),
               " does not match part 0 ", first.describe(), " outside dimension ", dim);
    shape[dim] += t.size(dim);
  }
  Tensor y = Tensor::empty(shape, first.dtype(), first.device());
  int64_t offset = 0;
  for (const Tensor& t : parts) {
    const Tensor part = t.contiguous();
    if (part.numel() > 0)
      SC_DISPATCH(y.device(), cpu::concat_part(part, dim, offset, y), cuda::concat_part(part, dim, offset, y));
    offset += t.size(dim);
  }
  return y;
}

}  // namespace sc::ops
