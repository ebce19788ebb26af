#include "kernels/cast.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void cast(const Tensor& src, Tensor& dst) {
  check_defined(src, "cast", "src");
  check_defined(dst, "cast", "dst");
  check_same_device(src, dst, "cast");
  check_same_shape(src, dst, "cast");
  check_contiguous(src, "cast", "src");
  check_contiguous(dst, "cast", "dst");
  SC_DISPATCH(src.device(), cpu::cast(src, dst), cuda::cast(src, dst));
}

}  // namespace sc::ops
