// The geometry of an NHWC convolution as the CUDA kernels index it (32-bit: the front ends limit tensors to
// 2^31 elements): input [N, H, W, C], weights [O, KH, KW, C], output [N, Ho, Wo, O].
#pragma once
#include "kernels/fused_conv.h"

namespace sc::cuda {

struct ConvGeom {
  int N, H, W, C, O, KH, KW, Ho, Wo, sh, sw, ph, pw;
  __host__ __device__ int K() const { return KH * KW * C; }
};

inline void fill_conv_geometry(ConvGeom& g, int64_t N, int64_t H, int64_t W, int64_t C, const Tensor& w,
                               const Tensor& y, const FusedConvParams& p) {
  g.N = static_cast<int>(N);
  g.H = static_cast<int>(H);
  g.W = static_cast<int>(W);
  g.C = static_cast<int>(C);
  g.O = static_cast<int>(w.size(0));
  g.KH = static_cast<int>(w.size(1));
  g.KW = static_cast<int>(w.size(2));
  g.Ho = static_cast<int>(y.size(1));
  g.Wo = static_cast<int>(y.size(2));
  g.sh = static_cast<int>(p.stride_h);
  g.sw = static_cast<int>(p.stride_w);
  g.ph = static_cast<int>(p.pad_h);
  g.pw = static_cast<int>(p.pad_w);
}

}  // namespace sc::cuda
