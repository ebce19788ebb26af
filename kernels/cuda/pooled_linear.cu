// One block per sample: the threads pool the channels (coalesced over C) into shared memory, then each warp
// takes classes and reduces its dot products with shuffles.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/pooled_linear.h"

namespace sc::cuda {
namespace {

template <typename T>
__global__ void pooled_linear_kernel(const T* __restrict__ x, const float* __restrict__ w,
                                     const float* __restrict__ bias, const float* __restrict__ scale,
                                     const float* __restrict__ shift, bool relu, float* __restrict__ logits,
                                     int P, int C, int K) {
  extern __shared__ float pooled[];
  const long long n = blockIdx.x;
  const T* xn = x + n * P * C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    float sum = 0.0f;
    for (int i = 0; i < P; ++i) {
      float v = load_f32(xn + static_cast<long long>(i) * C + c);
      if (scale) v = scale[c] * v + shift[c];
      if (relu && v < 0.0f) v = 0.0f;
      sum += v;
    }
    pooled[c] = sum / static_cast<float>(P);
  }
  __syncthreads();
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int k = warp; k < K; k += warps) {
    float acc = 0.0f;
    for (int c = lane; c < C; c += 32) acc += w[static_cast<long long>(k) * C + c] * pooled[c];
    acc = warp_sum(acc);
    if (lane == 0) logits[n * K + k] = acc + (bias ? bias[k] : 0.0f);
  }
}

}  // namespace

void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits) {
  const int P = static_cast<int>(x.size(1) * x.size(2)), C = static_cast<int>(x.size(3));
  const int K = static_cast<int>(w.size(0));
  const size_t smem = static_cast<size_t>(C) * sizeof(float);
  SC_CHECK(smem <= 48 * 1024, "pooled_linear: ", C, " channels do not fit in shared memory");
  SC_CHECK(x.size(0) < (1LL << 31), "pooled_linear: batch too large");
  const float* b = bias.defined() ? bias.data<float>() : nullptr;
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  auto launch = [&](auto* xp) {
    pooled_linear_kernel<<<static_cast<unsigned>(x.size(0)), 256, smem, stream()>>>(
        xp, w.data<float>(), b, sc, sh, prologue_relu, logits.data<float>(), P, C, K);
    SC_CUDA_LAUNCH_CHECK("pooled_linear_kernel");
  };
  switch (x.dtype()) {
    case DType::F32:
      return launch(x.data<float>());
    case DType::BF16:
      return launch(x.data<BFloat16>());
    case DType::F16:
      return launch(x.data<Half>());
    default:
      SC_FAIL("pooled_linear: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cuda
