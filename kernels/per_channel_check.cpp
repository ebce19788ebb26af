#include "kernels/per_channel_check.h"

namespace sc {

void check_per_channel(const Tensor& x, std::initializer_list<std::pair<const Tensor*, const char*>> vectors,
                       const char* op) {
  check_dtype(x, DType::F32, op, "x");
  check_contiguous(x, op, "x");
  SC_CHECK(x.dim() >= 2, op, ": x must have a channel dimension ([N, C, ...]), got ", x.describe());
  for (const auto& [t, name] : vectors) {
    check_dtype(*t, DType::F32, op, name);
    check_same_device(x, *t, op);
    SC_CHECK(t->dim() == 1 && t->size(0) == x.size(1), op, ": '", name, "' must be [", x.size(1), "], got ",
             t->describe());
  }
}

int64_t plane_size(const Tensor& x) {
  int64_t p = 1;
  for (int64_t d = 2; d < x.dim(); ++d) p *= x.size(d);
  return p;
}

}  // namespace sc
