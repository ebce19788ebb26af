// Warp-wide reductions by shuffles (every lane gets the result), and block-wide ones built on them: a sum in
// double, a max or sum in float.
#pragma once
#include <cmath>

namespace sc::cuda {

__device__ __forceinline__ float warp_max(float v) {
  for (int off = 16; off > 0; off /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

__device__ __forceinline__ double warp_sum(double v) {
  for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Σ of v over the block (blockDim.x a multiple of 32, at most 1024), in the same order every run; every
// thread gets it. scratch: 32 doubles of shared memory, free again when this returns.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  double total = 0.0;
  for (int w = 0; w < warps; ++w) total += scratch[w];
  __syncthreads();
  return total;
}

// The max (is_max) or Σ of v over the block (blockDim.x a multiple of 32), in float; every thread gets it.
// shared: 32 floats of shared memory, free again when this returns.
__device__ __forceinline__ float block_reduce(float v, float* shared, bool is_max) {
  v = is_max ? warp_max(v) : warp_sum(v);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? shared[threadIdx.x] : (is_max ? -INFINITY : 0.0f);
  if (warp == 0) v = is_max ? warp_max(v) : warp_sum(v);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  v = shared[0];
  __syncthreads();
  return v;
}

}  // namespace sc::cuda
