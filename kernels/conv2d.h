// conv2d: y[n, o, oh, ow] = bias[o] + Σ_{c,r,s} w[o, c, r, s] · x[n, g·Cg + c, oh·sh − ph + r·dh, ow·sw − pw + s·dw]
// with g = o / (Cout/groups), zero outside the input (PyTorch's Conv2d, NCHW, weights [Cout, Cin/groups, kh, kw]).
#pragma once
#include "kernels/backend.h"
#include "nn/tensor.h"

namespace sc {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  static Conv2dParams square(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
    return {stride, stride, pad, pad, dilation, dilation, groups};
  }
};

// Output spatial size of a convolution or pooling window along one axis.
int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation);

namespace ops {
// bias may be undefined (no bias).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
              Backend backend = Backend::Default);
// The gradient with respect to x of Σ dy · conv2d(x, w, ·): the transposed convolution
// dx[n, g·Cg + c, ih, iw] = Σ_{o in group g, r, s} dy[n, o, oh, ow] · w[o, c, r, s] over the (oh, ow) with
// oh·sh − ph + r·dh = ih and ow·sw − pw + s·dw = iw. x_h × x_w is the input's size (several sizes give the
// same output size under a stride; rows and columns no window reads get 0).
Tensor conv2d_backward_input(const Tensor& dy, const Tensor& w, int64_t x_h, int64_t x_w,
                             const Conv2dParams& p);
// The gradient with respect to w of Σ dy · conv2d(x, w, ·), for training:
// dw[o, c, r, s] = Σ_{n, oh, ow} dy[n, o, oh, ow] · x[n, g·Cg + c, oh·sh − ph + r·dh, ow·sw − pw + s·dw]
// (zero outside x), a kernel_h × kernel_w kernel. The bias gradient is ops::channel_sums(dy).
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& dy, int64_t kernel_h, int64_t kernel_w,
                              const Conv2dParams& p);
}  // namespace ops

namespace cpu {
void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y);
void conv2d_backward_input(const Tensor& dy, const Tensor& w, const Conv2dParams& p, Tensor& dx);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, const Conv2dParams& p, Tensor& dw);
}  // namespace cpu
namespace cuda {
void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y);
void conv2d_backward_input(const Tensor& dy, const Tensor& w, const Conv2dParams& p, Tensor& dx);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, const Conv2dParams& p, Tensor& dw);
void conv2d_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y);
}  // namespace cuda

}  // namespace sc
