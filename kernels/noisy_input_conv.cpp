#include "kernels/noisy_input_conv.h"

#include <algorithm>
#include <cmath>

#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace sc {

NoisyInput plain_batch(const Tensor& images, const Tensor& mean, const Tensor& std) {
  NoisyInput in;
  in.images = images;
  in.mean = mean;
  in.std = std;
  for (int64_t b = 0; b < images.size(0); ++b) in.spans.push_back({1, b, 0, 0});
  return in;
}

NoisyInput slice_rows(const NoisyInput& in, int64_t first, int64_t count) {
  SC_CHECK(first >= 0 && count >= 0, "slice_rows: rows [", first, ", ", first + count, ") of a batch");
  NoisyInput out = in;
  out.spans.clear();
  int64_t start = 0;  // the span's first row in the batch
  for (const SampleSpan& s : in.spans) {
    const int64_t lo = std::max(start, first), hi = std::min(start + s.rows, first + count);
    if (lo < hi)
      out.spans.push_back({hi - lo, s.slot, s.image_id, s.first_sample + static_cast<uint32_t>(lo - start)});
    start += s.rows;
  }
  SC_CHECK(first + count <= start, "slice_rows: rows [", first, ", ", first + count, ") of a batch of ",
           start);
  out.staged_row0 += first;
  return out;
}

namespace {

// The batch's rows, once every span is checked against the images.
int64_t checked_rows(const NoisyInput& in, const char* op) {
  const int64_t S = in.images.size(0);
  int64_t rows = 0;
  for (const SampleSpan& s : in.spans) {
    SC_CHECK(s.rows > 0 && s.slot >= 0 && s.slot < S, op, ": span of ", s.rows, " rows for slot ", s.slot,
             " outside the ", S, " images");
    SC_CHECK(static_cast<uint64_t>(s.first_sample) + static_cast<uint64_t>(s.rows) <= (uint64_t{1} << 32), op,
             ": sample indices past 2^32");
    rows += s.rows;
  }
  return rows;
}

void check_staged(const Tensor& table, const NoisyInput& in, const char* op) {
  check_dtype(table, DType::U8, op, "staged table");
  check_contiguous(table, op, "staged table");
  check_same_device(in.images, table, op);
  SC_CHECK(table.device().is_cuda(), op, ": a staged batch lives on a CUDA device, got ", table.describe());
  SC_CHECK(table.numel() == static_cast<int64_t>(sizeof(StagedNoise)), op,
           ": the staged table must be uint8 [", sizeof(StagedNoise), "], got ", table.describe());
  SC_CHECK(in.staged_row0 >= 0, op, ": staged rows start at ", in.staged_row0);
}

}  // namespace

namespace ops {

NoisyInput stage_noisy_input(const NoisyInput& in, Tensor& table) {
  const char* op = "stage_noisy_input";
  check_dtype(in.images, DType::F32, op, "images");
  check_dim(in.images, 4, op, "images");
  check_contiguous(in.images, op, "images");
  check_staged(table, in, op);
  SC_CHECK(std::isfinite(in.sigma) && in.sigma >= 0, op, ": sigma must be finite and non-negative, got ",
           in.sigma);
  SC_CHECK(in.spans.size() <= static_cast<size_t>(StagedNoise::kMaxSpans), op, ": ", in.spans.size(),
           " spans, at most ", StagedNoise::kMaxSpans, " are staged");
  SC_CHECK(checked_rows(in, op) < (int64_t{1} << 31), op, ": batch too large");
  SC_DISPATCH(table.device(), SC_FAIL(op, ": staging is for CUDA devices"),
              cuda::stage_noisy_input(in, table));
  NoisyInput out = in;
  out.staged = table;
  out.staged_row0 = 0;
  return out;
}

void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y) {
  const char* op = "noisy_input_conv";
  check_dtype(in.images, DType::F32, op, "images");
  check_dim(in.images, 4, op, "images");
  check_contiguous(in.images, op, "images");
  check_dtype(w, DType::F32, op, "weight");
  check_dim(w, 4, op, "weight");
  check_contiguous(w, op, "weight");
  check_contiguous(y, op, "y");
  check_same_device(in.images, w, op);
  check_same_device(in.images, y, op);
  SC_CHECK(y.dtype() == DType::F32 || y.dtype() == DType::BF16 || y.dtype() == DType::F16, op,
           ": y must be float32, bfloat16 or float16, got ", y.describe());
  SC_CHECK(!p.prologue_relu && !p.gelu && !p.tf32 && p.residual_channel_offset == 0 && p.residual_stride == 1,
           op, ": only stride, padding, relu and round_operands apply");
  SC_CHECK(!p.round_operands || y.dtype() != DType::F32, op,
           ": round_operands rounds to y's 16-bit type; y is float32");
  SC_CHECK(std::isfinite(in.sigma) && in.sigma >= 0, op, ": sigma must be finite and non-negative, got ",
           in.sigma);
  const int64_t C = in.images.size(1), O = w.size(0);
  SC_CHECK(w.size(3) == C, op, ": weight ", w.describe(), " expects ", w.size(3), " channels, images are ",
           in.images.describe());
  SC_CHECK(in.mean.defined() == in.std.defined(), op, ": normalization needs both mean and std");
  for (const Tensor* t : {&in.mean, &in.std})
    if (t->defined()) {
      check_dtype(*t, DType::F32, op, "mean/std");
      check_same_device(in.images, *t, op);
      SC_CHECK(t->dim() == 1 && t->size(0) == C, op, ": mean/std must be [", C, "], got ", t->describe());
    }
  if (bias.defined()) {
    check_dtype(bias, DType::F32, op, "bias");
    check_same_device(in.images, bias, op);
    SC_CHECK(bias.dim() == 1 && bias.size(0) == O, op, ": bias must be [", O, "], got ", bias.describe());
  }
  const int64_t rows = checked_rows(in, op);
  if (in.staged.defined()) check_staged(in.staged, in, op);
  const int64_t Ho = conv_out_size(in.images.size(2), w.size(1), p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(in.images.size(3), w.size(2), p.stride_w, p.pad_w, 1);
  SC_CHECK(Ho > 0 && Wo > 0, op, ": images ", in.images.describe(), " are smaller than the kernel ",
           w.describe());
  const Shape out{rows, Ho, Wo, O};
  SC_CHECK(y.shape() == out, op, ": y must be ", shape_str(out), ", got ", y.describe());
  SC_CHECK(y.numel() < (int64_t{1} << 31) && in.images.numel() < (int64_t{1} << 31), op,
           ": tensors over 2^31 elements: split the batch");
  if (rows == 0) return;
  SC_DISPATCH(y.device(), cpu::noisy_input_conv(in, w, bias, p, y),
              cuda::noisy_input_conv(in, w, bias, p, y));
}

}  // namespace ops

#ifndef SMOOTHCUDA_HAVE_CUDA
// A CPU-only build has no CUDA side; the GPU tests still ask (and skip).
bool cuda::noisy_input_conv_uses_mma(const NoisyInput&, const Tensor&, const FusedConvParams&,
                                     const Tensor&) {
  return false;
}
#endif

}  // namespace sc
