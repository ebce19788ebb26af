#include "kernels/class_histogram.h"

namespace sc::cpu {

void class_histogram_accumulate(const Tensor& labels, Tensor& counts) {
  const int64_t* l = labels.data<int64_t>();
  int64_t* c = counts.data<int64_t>();
  const int64_t n = labels.numel(), K = counts.numel();
  for (int64_t i = 0; i < n; ++i)
    if (l[i] >= 0 && l[i] < K) ++c[l[i]];
}

}  // namespace sc::cpu
