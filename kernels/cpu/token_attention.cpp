#include "kernels/token_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/relative_position.h"

namespace sc::cpu {

namespace {
// The tokens of one batch element and head: token t's query, key and value start at q + t·stride (+C, +2C);
// bias, when not null, the head's column of the relative position table (stride heads).
struct HeadView {
  const float* q;
  int64_t stride, C, d, T;
  const float* bias;
  int64_t heads, grid_h, grid_w;
  const float* query(int64_t t) const { return q + t * stride; }
  const float* key(int64_t t) const { return q + t * stride + C; }
  const float* value(int64_t t) const { return q + t * stride + 2 * C; }
};

HeadView head_view(const Tensor& qkv, int64_t b, int64_t h, int64_t heads, const RelativePositionBias& bias) {
  const int64_t T = qkv.size(1), C = qkv.size(2) / 3, d = C / heads;
  const float* table = bias.table.defined() ? bias.table.data<float>() + h : nullptr;
  return {qkv.data<float>() + b * T * 3 * C + h * d, 3 * C, C, d, T, table, heads, bias.grid_h, bias.grid_w};
}

// w[s] = softmax_s(q_t · k_s / √d + bias(t, s)), in double.
void attention_row(const HeadView& v, int64_t t, std::vector<double>& w) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(v.d));
  double m = -INFINITY;
  const float* q = v.query(t);
  for (int64_t s = 0; s < v.T; ++s) {
    const float* k = v.key(s);
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t c = 0; c < v.d; ++c) acc += static_cast<double>(q[c]) * k[c];
    double& score = w[static_cast<size_t>(s)];
    score = acc * scale;
    if (v.bias) score += v.bias[relative_position_index(t, s, v.grid_h, v.grid_w) * v.heads];
    m = std::max(m, score);
  }
  double sum = 0;
  for (double& x : w) sum += (x = std::exp(x - m));
  for (double& x : w) x /= sum;
}

// One batch element and head of the backward pass; adds Σ ∂L/∂score into dbias ([T, T], the head's) when
// given.
void backward_head(const Tensor& dy, const HeadView& v, int64_t b, int64_t h, Tensor& dqkv, double* dbias) {
  const int64_t T = v.T, C = v.C, d = v.d;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  // dk and dv gather over every query t: accumulated here, written once at the end.
  std::vector<double> w(static_cast<size_t>(T)), dw(static_cast<size_t>(T)),
      dk(static_cast<size_t>(T * d), 0.0), dv(static_cast<size_t>(T * d), 0.0), dq(static_cast<size_t>(d));
  for (int64_t t = 0; t < T; ++t) {
    attention_row(v, t, w);
    const float* g = dy.data<float>() + (b * T + t) * C + h * d;
    double mean = 0;
    for (int64_t s = 0; s < T; ++s) {
      const float* value = v.value(s);
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t c = 0; c < d; ++c) acc += static_cast<double>(g[c]) * value[c];
      dw[static_cast<size_t>(s)] = acc;
      mean += w[static_cast<size_t>(s)] * acc;
    }
    std::fill(dq.begin(), dq.end(), 0.0);
    const float* q = v.query(t);
    for (int64_t s = 0; s < T; ++s) {
      const double ws = w[static_cast<size_t>(s)], dscore = ws * (dw[static_cast<size_t>(s)] - mean);
      if (dbias) dbias[t * T + s] += dscore;
      const double z = dscore * scale;
      const float* k = v.key(s);
      for (int64_t c = 0; c < d; ++c) {
        dq[static_cast<size_t>(c)] += z * k[c];
        dk[static_cast<size_t>(s * d + c)] += z * q[c];
        dv[static_cast<size_t>(s * d + c)] += ws * g[c];
      }
    }
    float* out = dqkv.data<float>() + (b * T + t) * 3 * C + h * d;
    for (int64_t c = 0; c < d; ++c) out[c] = static_cast<float>(dq[static_cast<size_t>(c)]);
  }
  for (int64_t s = 0; s < T; ++s) {
    float* out = dqkv.data<float>() + (b * T + s) * 3 * C + h * d;
    for (int64_t c = 0; c < d; ++c) {
      out[C + c] = static_cast<float>(dk[static_cast<size_t>(s * d + c)]);
      out[2 * C + c] = static_cast<float>(dv[static_cast<size_t>(s * d + c)]);
    }
  }
}
}  // namespace

void token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out) {
  const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      const HeadView v = head_view(qkv, b, h, heads, bias);
      std::vector<double> w(static_cast<size_t>(T)), acc(static_cast<size_t>(v.d));
      for (int64_t t = 0; t < T; ++t) {
        attention_row(v, t, w);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t s = 0; s < T; ++s) {  // value rows in order, each contiguous
          const float* value = v.value(s);
          const double ws = w[static_cast<size_t>(s)];
#pragma omp simd
          for (int64_t c = 0; c < v.d; ++c) acc[static_cast<size_t>(c)] += ws * value[c];
        }
        float* o = out.data<float>() + (b * T + t) * C + h * v.d;
        for (int64_t c = 0; c < v.d; ++c) o[c] = static_cast<float>(acc[static_cast<size_t>(c)]);
      }
    }
}

void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                              const RelativePositionBias& bias, Tensor& dqkv, Tensor* dbias) {
  const int64_t B = qkv.size(0), T = qkv.size(1);
  if (!dbias) {
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < heads; ++h)
        backward_head(dy, head_view(qkv, b, h, heads, bias), b, h, dqkv, nullptr);
    return;
  }
  // A head's bias gradient sums over the batch: heads in parallel, the batch in order (the same sums every
  // run).
#pragma omp parallel for schedule(dynamic)
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<double> sum(static_cast<size_t>(T * T), 0.0);
    for (int64_t b = 0; b < B; ++b)
      backward_head(dy, head_view(qkv, b, h, heads, bias), b, h, dqkv, sum.data());
    float* out = dbias->data<float>() + h * T * T;
    for (int64_t i = 0; i < T * T; ++i) out[i] = static_cast<float>(sum[static_cast<size_t>(i)]);
  }
}

}  // namespace sc::cpu
