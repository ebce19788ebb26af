#include "kernels/timestep_embedding.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor timestep_embedding(const Tensor& t, int64_t dim, double max_period) {
  check_dtype(t, DType::F32, "timestep_embedding", "t");
  check_dim(t, 1, "timestep_embedding", "t");
  check_contiguous(t, "timestep_embedding", "t");
  SC_CHECK(dim >= 2, "timestep_embedding: dim must be >= 2, got ", dim);
  Tensor y = Tensor::empty({t.size(0), dim}, DType::F32, t.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(t.device(), cpu::timestep_embedding(t, max_period, y), cuda::timestep_embedding(t, max_period, y));
  return y;
}

}  // namespace sc::ops
