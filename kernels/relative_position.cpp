#include "kernels/relative_position.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void check_relative_position_bias(const Tensor& qkv, int64_t heads, const RelativePositionBias& b,
                                  const char* op) {
  if (!b.table.defined()) return;
  check_dtype(b.table, DType::F32, op, "relative position table");
  check_contiguous(b.table, op, "relative position table");
  check_same_device(qkv, b.table, op);
  SC_CHECK(b.grid_h > 0 && b.grid_w > 0 && qkv.size(1) == b.grid_h * b.grid_w + 1, op, ": ", qkv.size(1),
           " tokens are not a class token and a ", b.grid_h, "x", b.grid_w, " grid of patches");
  const Shape want = {relative_position_rows(b.grid_h, b.grid_w), heads};
  SC_CHECK(b.table.shape() == want, op, ": the relative position table must be ", shape_str(want), ", got ",
           b.table.describe());
}

}  // namespace sc::ops
