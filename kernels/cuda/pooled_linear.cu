// One block per up to 8 samples: the threads pool the channels (coalesced over C) into shared memory, then
// each warp takes classes and reduces their dot products with every sample with shuffles. Voting, the logits
// stay in shared memory, warp s finds sample s's argmax and one thread adds the vote to the row's histogram
// (one atomic per sample).
#include <algorithm>
#include <type_traits>

#include "kernels/argmax_order.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/pooled_linear.h"

namespace sc::cuda {
namespace {

constexpr int kMaxRuns = 64;  // runs per launch, passed by value (no host-to-device copy, graph friendly)
// Samples per block, at most one per warp of its 256 threads (warp s votes for sample s): the block reads
// the classifier's weights once for all of them, where one block per sample read all K·C of them per sample
// (ResNet-50's 8 MB per image from L2).
constexpr int kMaxSamplesPerBlock = 8;

struct RunTable {
  int row_end[kMaxRuns];  // exclusive, relative to the launch's first row
  int slot[kMaxRuns];
  int count;
};

// Where the votes go: counts [S, K] and the run table, or nothing (plain logits).
struct Votes {
  unsigned long long* counts;
  RunTable runs;
};

// The lowest-ranked (value, index) by argmax_order across the warp; every lane gets it.
__device__ void warp_argmax(float& v, int& i) {
  for (int off = 16; off > 0; off /= 2) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, off);
    const int oi = __shfl_xor_sync(0xffffffffu, i, off);
    if (argmax_better(ov, oi, v, i)) v = ov, i = oi;
  }
}

template <typename T, bool kVote>
__global__ void pooled_linear_kernel(const T* __restrict__ x, const float* __restrict__ w,
                                     const float* __restrict__ bias, const float* __restrict__ scale,
                                     const float* __restrict__ shift, bool relu, float* __restrict__ logits,
                                     Votes votes, int rows, int per_block, int P, int C, int K) {
  SC_DYNAMIC_SHARED(float, pooled);  // [per_block][C], then the logits [per_block][K] when voting
  const long long n0 = static_cast<long long>(blockIdx.x) * per_block;
  const int S = min(per_block, static_cast<int>(rows - n0));
  for (int s = 0; s < S; ++s) {
    const T* xn = x + (n0 + s) * P * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      float sum = 0.0f;
      for (int i = 0; i < P; ++i) {
        float v = load_f32(xn + static_cast<long long>(i) * C + c);
        if (scale) v = scale[c] * v + shift[c];
        if (relu && v < 0.0f) v = 0.0f;
        sum += v;
      }
      pooled[s * C + c] = sum / static_cast<float>(P);
    }
  }
  __syncthreads();
  // Each weight is loaded once for the block's samples; every sample's dot product keeps the order of one
  // (lane-strided partial sums, then the warp's butterfly).
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  float* out = kVote ? pooled + per_block * C : nullptr;
  for (int k = warp; k < K; k += warps) {
    float acc[kMaxSamplesPerBlock];
#pragma unroll
    for (int s = 0; s < kMaxSamplesPerBlock; ++s) acc[s] = 0.0f;
    for (int c = lane; c < C; c += 32) {
      const float wk = w[static_cast<long long>(k) * C + c];
#pragma unroll
      for (int s = 0; s < kMaxSamplesPerBlock; ++s)
        if (s < S) acc[s] += wk * pooled[s * C + c];
    }
#pragma unroll
    for (int s = 0; s < kMaxSamplesPerBlock; ++s) {
      if (s >= S) break;
      const float dot = warp_sum(acc[s]);
      if (lane != 0) continue;
      if (kVote)
        out[s * K + k] = dot + (bias ? bias[k] : 0.0f);
      else
        logits[(n0 + s) * K + k] = dot + (bias ? bias[k] : 0.0f);
    }
  }
  if (!kVote) return;
  __syncthreads();
  if (warp >= S) return;  // warp s votes for sample n0 + s
  const float* z = out + warp * K;
  float best = z[0];
  int bi = 0;
  for (int k = lane; k < K; k += 32)
    if (argmax_better(z[k], k, best, bi)) best = z[k], bi = k;
  warp_argmax(best, bi);
  if (lane == 0) {
    const long long n = n0 + warp;
    int r = 0;
    while (r + 1 < votes.runs.count && n >= votes.runs.row_end[r]) ++r;
    atomicAdd(&votes.counts[static_cast<long long>(votes.runs.slot[r]) * K + bi], 1ull);
  }
}

// Runs the kernel over x's rows in launches of up to kMaxRuns runs (one launch when not voting).
void launch_head(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                 const Tensor& shift, bool prologue_relu, float* logits, const std::vector<RowRun>* runs,
                 int64_t* counts) {
  const int P = static_cast<int>(x.size(1) * x.size(2)), C = static_cast<int>(x.size(3));
  const int K = static_cast<int>(w.size(0));
  const bool vote = runs != nullptr;
  const int max_smem = max_shared_bytes_optin();
  const auto smem_for = [&](int samples) {
    return static_cast<size_t>(samples) * (C + (vote ? K : 0)) * sizeof(float);
  };
  int per_block = kMaxSamplesPerBlock;
  while (per_block > 1 && smem_for(per_block) > static_cast<size_t>(max_smem)) per_block /= 2;
  const size_t smem = smem_for(per_block);
  SC_CHECK(smem <= static_cast<size_t>(max_smem), "pooled_linear: ", C, " channels",
           vote ? " and the classes" : "", " do not fit in shared memory");
  SC_CHECK(x.size(0) < (1LL << 31), "pooled_linear: batch too large");
  const float* b = bias.defined() ? bias.data<float>() : nullptr;
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  auto launch = [&](auto* xp, long long row0, long long rows, const Votes& votes) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
    const auto blocks = static_cast<unsigned>((rows + per_block - 1) / per_block);
    auto run = [&](auto kernel, const T* first, float* out) {
      opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem);
      SC_LAUNCH(blocks, 256, smem, kernel)(first, w.data<float>(), b, sc, sh, prologue_relu, out, votes,
                                           static_cast<int>(rows), per_block, P, C, K);
    };
    if (vote)
      run(pooled_linear_kernel<T, true>, xp + row0 * P * C, nullptr);
    else
      run(pooled_linear_kernel<T, false>, xp, logits);
    SC_CUDA_LAUNCH_CHECK("pooled_linear_kernel");
  };
  auto each_launch = [&](auto* xp) {
    if (!vote) return launch(xp, 0, x.size(0), Votes{});
    long long row = 0;
    for (size_t first = 0; first < runs->size(); first += kMaxRuns) {
      Votes votes{};
      votes.counts = reinterpret_cast<unsigned long long*>(counts);  // non-negative int64 = the same bits
      votes.runs.count = static_cast<int>(std::min<size_t>(kMaxRuns, runs->size() - first));
      long long rows = 0;
      for (int r = 0; r < votes.runs.count; ++r) {
        const RowRun& run = (*runs)[first + static_cast<size_t>(r)];
        rows += run.rows;
        votes.runs.row_end[r] = static_cast<int>(rows);
        votes.runs.slot[r] = static_cast<int>(run.slot);
      }
      launch(xp, row, rows, votes);
      row += rows;
    }
  };
  visit_float_storage(x.dtype(), "pooled_linear", [&](auto t) { each_launch(x.data<decltype(t)>()); });
}

}  // namespace

void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits) {
  launch_head(x, w, bias, scale, shift, prologue_relu, logits.data<float>(), nullptr, nullptr);
}

void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts) {
  launch_head(x, w, bias, scale, shift, prologue_relu, nullptr, &runs, counts.data<int64_t>());
}

}  // namespace sc::cuda
