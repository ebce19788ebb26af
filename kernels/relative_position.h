// BEiT's relative position index (timm's gen_relative_position_index), shared by the CPU and CUDA paths of
// token_attention: for tokens [class, patches of a gh × gw grid in row-major order] and R = (2gh − 1)(2gw −
// 1) + 3 table rows, the pair (t, s) reads row
//   (y_t − y_s + gh − 1)·(2gw − 1) + (x_t − x_s + gw − 1)   for two patches,
//   R − 3 (class → patch), R − 2 (patch → class), R − 1 (class → class).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define SC_RELPOS_FN __host__ __device__ inline
#else
#define SC_RELPOS_FN inline
#endif

namespace sc {

SC_RELPOS_FN int64_t relative_position_rows(int64_t gh, int64_t gw) {
  return (2 * gh - 1) * (2 * gw - 1) + 3;
}

SC_RELPOS_FN int64_t relative_position_index(int64_t t, int64_t s, int64_t gh, int64_t gw) {
  const int64_t rows = relative_position_rows(gh, gw);
  if (t == 0) return s == 0 ? rows - 1 : rows - 3;
  if (s == 0) return rows - 2;
  const int64_t dy = (t - 1) / gw - (s - 1) / gw + gh - 1, dx = (t - 1) % gw - (s - 1) % gw + gw - 1;
  return dy * (2 * gw - 1) + dx;
}

}  // namespace sc
