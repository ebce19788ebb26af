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

void increment(Tensor& t, int64_t by) {
  check_dtype(t, DType::I64, "increment", "t");
  check_contiguous(t, "increment", "t");
  if (t.numel() == 0) return;
  SC_DISPATCH(t.device(), cpu::increment(t, by), cuda::increment(t, by));
}

}  // namespace sc::ops
