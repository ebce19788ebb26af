#include "kernels/strided_copy.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void strided_copy(const Tensor& src, Tensor& dst) {
  check_defined(src, "strided_copy", "src");
  check_defined(dst, "strided_copy", "dst");
  check_same_device(src, dst, "strided_copy");
  check_same_shape(src, dst, "strided_copy");
  SC_CHECK(src.dtype() == dst.dtype(), "strided_copy: dtypes differ: ", src.describe(), " and ", dst.describe());
  SC_CHECK(src.dim() <= 8, "strided_copy: at most 8 dimensions, got ", src.describe());
  if (src.numel() == 0) return;
  SC_DISPATCH(src.device(), cpu::strided_copy(src, dst), cuda::strided_copy(src, dst));
}

}  // namespace sc::ops
