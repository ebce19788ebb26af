#include "kernels/pooled_linear.h"

#include "kernels/dispatch.h"

namespace sc::ops {

namespace {

// The checks both entry points share: x, weight, bias and the prologue.
void check_head(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, bool prologue_relu) {
  check_dim(x, 4, op, "x");
  check_contiguous(x, op, "x");
  SC_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16 || x.dtype() == DType::F16, op,
           ": x must be float32, bfloat16 or float16, got ", x.describe());
  check_dtype(w, DType::F32, op, "weight");
  check_dim(w, 2, op, "weight");
  check_contiguous(w, op, "weight");
  check_same_device(x, w, op);
  const int64_t C = x.size(3), K = w.size(0);
  SC_CHECK(w.size(1) == C, op, ": weight ", w.describe(), " expects ", w.size(1), " channels, x is ",
           x.describe());
  SC_CHECK(x.size(1) * x.size(2) > 0, op, ": empty feature map ", x.describe());
  if (bias.defined()) {
    check_dtype(bias, DType::F32, op, "bias");
    check_same_device(x, bias, op);
    SC_CHECK(bias.dim() == 1 && bias.size(0) == K, op, ": bias must be [", K, "], got ", bias.describe());
  }
  SC_CHECK(scale.defined() == shift.defined(), op, ": the prologue needs both scale and shift");
  SC_CHECK(scale.defined() || !prologue_relu, op, ": a prologue ReLU needs scale and shift");
  for (const Tensor* t : {&scale, &shift})
    if (t->defined()) {
      check_dtype(*t, DType::F32, op, "scale/shift");
      check_same_device(x, *t, op);
      SC_CHECK(t->dim() == 1 && t->size(0) == C, op, ": scale/shift must be [", C, "], got ", t->describe());
    }
  SC_CHECK(x.numel() < (int64_t{1} << 31), op, ": tensors over 2^31 elements: split the batch");
}

}  // namespace

void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits) {
  const char* op = "pooled_linear";
  check_head(op, x, w, bias, scale, shift, prologue_relu);
  check_dtype(logits, DType::F32, op, "logits");
  check_contiguous(logits, op, "logits");
  check_same_device(x, logits, op);
  SC_CHECK(logits.shape() == Shape({x.size(0), w.size(0)}), op, ": logits must be [", x.size(0), ", ",
           w.size(0), "], got ", logits.describe());
  if (logits.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::pooled_linear(x, w, bias, scale, shift, prologue_relu, logits),
              cuda::pooled_linear(x, w, bias, scale, shift, prologue_relu, logits));
}

void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts) {
  const char* op = "pooled_linear_vote";
  check_head(op, x, w, bias, scale, shift, prologue_relu);
  check_dtype(counts, DType::I64, op, "counts");
  check_contiguous(counts, op, "counts");
  check_same_device(x, counts, op);
  SC_CHECK(counts.dim() == 2 && counts.size(1) == w.size(0), op, ": counts must be [slots, ", w.size(0),
           "], got ", counts.describe());
  int64_t rows = 0;
  for (const RowRun& r : runs) {
    SC_CHECK(r.rows > 0 && r.slot >= 0 && r.slot < counts.size(0), op, ": a run of ", r.rows,
             " rows into slot ", r.slot, " does not fit counts ", counts.describe());
    rows += r.rows;
  }
  SC_CHECK(rows == x.size(0), op, ": the runs cover ", rows, " rows, x has ", x.size(0));
  if (rows == 0) return;
  SC_DISPATCH(x.device(), cpu::pooled_linear_vote(x, w, bias, scale, shift, prologue_relu, runs, counts),
              cuda::pooled_linear_vote(x, w, bias, scale, shift, prologue_relu, runs, counts));
}

}  // namespace sc::ops
