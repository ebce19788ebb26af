// The values of one channel of an [N, C] or [N, C, H, W] tensor, walked as one list: the j-th of channel c's
// N·P values (P = H·W, or 1) is image j / P, position j % P. Kernels that give a block to each channel
// (channel_sums, batch_norm_training) stride over j.
#pragma once
#include "kernels/per_channel_check.h"
#include "nn/tensor.h"

namespace sc::cuda {

struct ChannelValues {
  int C;
  long long P, count;  // positions per image, values per channel (N·P)
  __device__ long long index(int c, long long j) const { return (j / P * C + c) * P + j % P; }
};

inline ChannelValues channel_values(const Tensor& x) {
  const long long P = plane_size(x);
  return {static_cast<int>(x.size(1)), P, x.size(0) * P};
}

}  // namespace sc::cuda
