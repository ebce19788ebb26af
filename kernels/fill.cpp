#include "kernels/fill.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void fill(Tensor& t, float value) {
  check_defined(t, "fill", "t");
  if (!t.is_contiguous()) {  // fill a contiguous temporary, then scatter it into the view
    Tensor tmp = Tensor::empty(t.shape(), t.dtype(), t.device());
    fill(tmp, value);
    t.copy_(tmp);
    return;
  }
  SC_DISPATCH(t.device(), cpu::fill(t, value), cuda::fill(t, value));
}

}  // namespace sc::ops
