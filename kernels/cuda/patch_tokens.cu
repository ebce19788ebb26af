// One thread per token value (forward) or per patch value and per position value (backward); the sums over
// the batch run in a fixed order.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/patch_tokens.h"

namespace sc::cuda {

namespace {
// The patch value (b, p, c) sits at b·P·C + c·step_c + p·step_p: step_c = P, step_p = 1 channels first, and
// 1, C channels last.
template <typename T>
__global__ void patch_tokens_kernel(const T* x, const float* cls, const float* pos, T* out, long long n,
                                    long long P, long long C, long long step_c, long long step_p) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long c = i % C, t = (i / C) % (P + 1), b = i / (C * (P + 1));
    const float v = t == 0 ? cls[c] : load_f32(x + b * P * C + c * step_c + (t - 1) * step_p);
    store_f32(out + i, v + pos[t * C + c]);
  }
}

__global__ void patch_tokens_dpatches_kernel(const float* dy, float* dx, long long n, long long T,
                                             long long C) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long p = i % (T - 1), c = (i / (T - 1)) % C, b = i / ((T - 1) * C);
    dx[i] = dy[(b * T + 1 + p) * C + c];
  }
}

__global__ void patch_tokens_dpos_kernel(const float* dy, float* dpos, long long n, long long B) {
  SC_GRID_STRIDE_LOOP(i, n) {
    double sum = 0.0;
    for (long long b = 0; b < B; ++b) sum += dy[b * n + i];
    dpos[i] = static_cast<float>(sum);
  }
}
}  // namespace

void patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                  Tensor& tokens) {
  const long long n = tokens.numel(), C = tokens.size(2), P = tokens.size(1) - 1;
  visit_float_storage(patches.dtype(), "patch_tokens", [&](auto t) {
    using T = decltype(t);
    SC_LAUNCH(grid_for(n), kThreads, 0, patch_tokens_kernel<T>)
    (patches.data<T>(), cls.data<float>(), pos.data<float>(), tokens.data<T>(), n, P, C,
     channels_last ? 1 : P, channels_last ? C : 1);
  });
  SC_CUDA_LAUNCH_CHECK("patch_tokens_kernel");
}

void patch_tokens_backward(const Tensor& dy, Tensor& dpatches, Tensor& dpos) {
  const long long T = dy.size(1), C = dy.size(2), patches = dpatches.numel(), positions = dpos.numel();
  if (patches > 0) {
    SC_LAUNCH(grid_for(patches), kThreads, 0, patch_tokens_dpatches_kernel)
    (dy.data<float>(), dpatches.data<float>(), patches, T, C);
    SC_CUDA_LAUNCH_CHECK("patch_tokens_dpatches_kernel");
  }
  SC_LAUNCH(grid_for(positions), kThreads, 0, patch_tokens_dpos_kernel)
  (dy.data<float>(), dpos.data<float>(), positions, dy.size(0));
  SC_CUDA_LAUNCH_CHECK("patch_tokens_dpos_kernel");
}

}  // namespace sc::cuda
