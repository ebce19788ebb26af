#include "kernels/qkv_attention.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor qkv_attention(const Tensor& qkv, int64_t heads) {
  check_dtype(qkv, DType::F32, "qkv_attention", "qkv");
  check_dim(qkv, 3, "qkv_attention", "qkv");
  check_contiguous(qkv, "qkv_attention", "qkv");
  SC_CHECK(heads > 0 && qkv.size(1) % (3 * heads) == 0, "qkv_attention: ", qkv.size(1),
           " channels are not 3 x heads x head width for ", heads, " heads");
  Tensor out = Tensor::empty({qkv.size(0), qkv.size(1) / 3, qkv.size(2)}, DType::F32, qkv.device());
  if (out.numel() == 0) return out;
  SC_DISPATCH(qkv.device(), cpu::qkv_attention(qkv, heads, out), cuda::qkv_attention(qkv, heads, out));
  return out;
}

}  // namespace sc::ops
