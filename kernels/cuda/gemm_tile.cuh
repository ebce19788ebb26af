// A shared-memory tiled fp32 matrix product C[M,N] = A[M,K] · B[K,N] for the hand-written conv2d and linear.
// The operands are not materialized: loader functors compute A(z, m, k) and B(z, k, n) on the fly (conv2d's B is
// its implicit im2col), and a store functor writes C(z, m, n) with the epilogue (bias). blockIdx.z selects an
// independent problem (a convolution group). Each 256-thread block computes a 64×64 tile, each thread a 4×4
// grid of it spaced 16 apart so that neighbouring threads touch neighbouring columns (coalesced stores).
#pragma once
#include <algorithm>
#include <cstdlib>

#include "kernels/cuda/common.cuh"

namespace sc::cuda {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;

// kBFastK: whether consecutive k (rather than n) are adjacent in B's memory, to pick the coalesced load order.
// m_base: the first row of this launch's tiles (launch_gemm_tile splits M over launches).
template <bool kBFastK, typename LoadA, typename LoadB, typename Store>
__global__ void __launch_bounds__(256)
    gemm_tile_kernel(int M, int N, int K, int m_base, LoadA load_a, LoadB load_b, Store store) {
  __shared__ float As[kTileK][kTileM + 1];
  __shared__ float Bs[kTileK][kTileN + 1];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int m0 = m_base + blockIdx.y * kTileM, n0 = blockIdx.x * kTileN, z = blockIdx.z;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += kTileK) {
    for (int i = tid; i < kTileM * kTileK; i += 256) {  // A rows are k-contiguous: k varies fastest
      const int mm = i / kTileK, kk = i % kTileK;
      const int m = m0 + mm, k = k0 + kk;
      As[kk][mm] = (m < M && k < K) ? load_a(z, m, k) : 0.0f;
    }
    for (int i = tid; i < kTileN * kTileK; i += 256) {
      const int nn = kBFastK ? i / kTileK : i % kTileN;
      const int kk = kBFastK ? i % kTileK : i / kTileN;
      const int n = n0 + nn, k = k0 + kk;
      Bs[kk][nn] = (n < N && k < K) ? load_b(z, k, n) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < M && n < N) store(z, m, n, acc[i][j]);
    }
}

// Row tiles per launch: the grid's y limit, 65,535 tiles of 64 rows (4.2 M rows, which the first convolution
// of a 224×224 UNet passes at 84 samples); SMOOTHCUDA_GEMM_TILE_ROW_TILES lowers it, so that tests split
// small problems.
inline int gemm_tile_row_tiles_per_launch() {
  const char* v = std::getenv("SMOOTHCUDA_GEMM_TILE_ROW_TILES");
  return std::clamp(v && *v ? std::atoi(v) : 65535, 1, 65535);
}

template <bool kBFastK, typename LoadA, typename LoadB, typename Store>
void launch_gemm_tile(int M, int N, int K, int batches, LoadA a, LoadB b, Store s, const char* name) {
  SC_CHECK(batches <= 65535, name, ": ", batches, " problems, at most 65535 in one launch");
  const int row_tiles = (M + kTileM - 1) / kTileM, per_launch = gemm_tile_row_tiles_per_launch();
  for (int first = 0; first < row_tiles; first += per_launch) {
    dim3 grid((N + kTileN - 1) / kTileN, std::min(per_launch, row_tiles - first), batches);
    SC_LAUNCH(grid, 256, 0, gemm_tile_kernel<kBFastK, LoadA, LoadB, Store>)(M, N, K, first * kTileM, a, b, s);
    SC_CUDA_LAUNCH_CHECK(name);
  }
}

}  // namespace sc::cuda
