#include "kernels/token_attention.h"

#include "kernels/dispatch.h"
#include "kernels/relative_position.h"

namespace sc::ops {

namespace {
void check_qkv(const Tensor& qkv, int64_t heads, const char* op) {
  check_dtype(qkv, DType::F32, op, "qkv");
  check_dim(qkv, 3, op, "qkv");
  check_contiguous(qkv, op, "qkv");
  SC_CHECK(heads > 0 && qkv.size(2) % (3 * heads) == 0 && qkv.size(2) > 0, op, ": ", qkv.size(2),
           " channels per token are not 3 x heads x head width for ", heads, " heads");
  SC_CHECK(qkv.size(1) > 0, op, ": qkv ", qkv.describe(), " has no tokens");
}

}  // namespace

Tensor token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias) {
  check_qkv(qkv, heads, "token_attention");
  check_relative_position_bias(qkv, heads, bias, "token_attention");
  Tensor out = Tensor::empty({qkv.size(0), qkv.size(1), qkv.size(2) / 3}, DType::F32, qkv.device());
  if (out.numel() == 0) return out;
  SC_DISPATCH(qkv.device(), cpu::token_attention(qkv, heads, bias, out),
              cuda::token_attention(qkv, heads, bias, out));
  return out;
}

Tensor token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                                const RelativePositionBias& bias, Tensor* dbias) {
  const char* op = "token_attention_backward";
  check_qkv(qkv, heads, op);
  check_relative_position_bias(qkv, heads, bias, op);
  check_dtype(dy, DType::F32, op, "dy");
  check_contiguous(dy, op, "dy");
  check_same_device(qkv, dy, op);
  SC_CHECK(dy.shape() == Shape({qkv.size(0), qkv.size(1), qkv.size(2) / 3}), op, ": dy ", dy.describe(),
           " is not the output shape of qkv ", qkv.describe());
  Tensor dqkv = Tensor::empty(qkv.shape(), DType::F32, qkv.device());
  const int64_t T = qkv.size(1);
  if (dbias) *dbias = Tensor::zeros({heads, T, T}, DType::F32, qkv.device());
  if (dqkv.numel() == 0) return dqkv;
  SC_DISPATCH(qkv.device(), cpu::token_attention_backward(dy, qkv, heads, bias, dqkv, dbias),
              cuda::token_attention_backward(dy, qkv, heads, bias, dqkv, dbias));
  return dqkv;
}

}  // namespace sc::ops
