// CPU linear: transpose the weights once to [in, out], then row blocks of x times it, in parallel.
#include "kernels/linear.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace sc::cpu {

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const int64_t N = x.size(0), I = x.size(1), O = w.size(0);
  const float* wp = w.data<float>();
  std::vector<float> wt(static_cast<size_t>(I * O));
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i) wt[i * O + o] = wp[o * I + i];
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  constexpr int64_t kRows = 16;
#pragma omp parallel for schedule(dynamic)
  for (int64_t r0 = 0; r0 < N; r0 += kRows) {
    const int64_t rows = std::min(kRows, N - r0);
    sgemm(rows, O, I, xp + r0 * I, I, wt.data(), O, yp + r0 * O, O, false);
    if (bias.defined()) {
      const float* bp = bias.data<float>();
      for (int64_t r = r0; r < r0 + rows; ++r)
        for (int64_t o = 0; o < O; ++o) yp[r * O + o] += bp[o];
    }
  }
}

}  // namespace sc::cpu
