// class_histogram: counts[k] += #{i : labels[i] = k} for int64 labels; labels outside [0, num_classes) (such as
// −1 for an abstention) are not counted. The smoothing loop keeps the counts on the device across batches.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
// A fresh int64 [num_classes] histogram of labels.
Tensor class_histogram(const Tensor& labels, int64_t num_classes);
// Adds the histogram of labels into counts (int64 [K], same device).
void class_histogram_accumulate(const Tensor& labels, Tensor& counts);
}  // namespace ops
namespace cpu {
void class_histogram_accumulate(const Tensor& labels, Tensor& counts);
}
namespace cuda {
void class_histogram_accumulate(const Tensor& labels, Tensor& counts);
}
}  // namespace sc
