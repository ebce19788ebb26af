#include "kernels/class_histogram.h"

#include "kernels/dispatch.h"

namespace sc::ops {

void class_histogram_accumulate(const Tensor& labels, Tensor& counts) {
  check_dtype(labels, DType::I64, "class_histogram", "labels");
  check_dtype(counts, DType::I64, "class_histogram", "counts");
  check_dim(labels, 1, "class_histogram", "labels");
  check_dim(counts, 1, "class_histogram", "counts");
  check_contiguous(labels, "class_histogram", "labels");
  check_contiguous(counts, "class_histogram", "counts");
  check_same_device(labels, counts, "class_histogram");
  if (labels.numel() == 0 || counts.numel() == 0) return;
  SC_DISPATCH(labels.device(), cpu::class_histogram_accumulate(labels, counts),
              cuda::class_histogram_accumulate(labels, counts));
}

Tensor class_histogram(const Tensor& labels, int64_t num_classes) {
  SC_CHECK(num_classes > 0, "class_histogram: num_classes must be positive, got ", num_classes);
  check_defined(labels, "class_histogram", "labels");
  Tensor counts = Tensor::zeros({num_classes}, DType::I64, labels.device());
  class_histogram_accumulate(labels, counts);
  return counts;
}

}  // namespace sc::ops
