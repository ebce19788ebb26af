// conv2d through cuDNN (NCHW, fp32, FMA math only so it compares with the CPU at fp32 tolerance).
// The fastest algorithm cuDNN's heuristics offer for the shape is used; its workspace comes from the
// caching allocator.
#include "kernels/conv2d.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/vendor_handles.h"

namespace sc::cuda {

namespace {
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, b = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  Descriptors() {
    SC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    SC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    SC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&b));
    SC_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    SC_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(b);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
};

int i32(int64_t v) { return static_cast<int>(v); }
}  // namespace

void conv2d_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y) {
  cudnnHandle_t h = cudnn_handle();
  Descriptors d;
  SC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i32(x.size(0)), i32(x.size(1)),
                                            i32(x.size(2)), i32(x.size(3))));
  SC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i32(y.size(0)), i32(y.size(1)),
                                            i32(y.size(2)), i32(y.size(3))));
  SC_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, i32(w.size(0)), i32(w.size(1)),
                                            i32(w.size(2)), i32(w.size(3))));
  SC_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d.conv, i32(p.pad_h), i32(p.pad_w), i32(p.stride_h),
                                                 i32(p.stride_w), i32(p.dilation_h), i32(p.dilation_w),
                                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  SC_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, i32(p.groups)));
  SC_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH));

  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int found = 0;
  SC_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, 8, &found, perf));
  SC_CHECK(found > 0, "conv2d (cuDNN): no algorithm for ", x.describe(), " * ", w.describe());
  cudnnConvolutionFwdAlgo_t algo = perf[0].algo;
  for (int i = 0; i < found; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == CUDNN_FMA_MATH) {
      algo = perf[i].algo;
      break;
    }
  size_t ws_bytes = 0;
  SC_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, algo, &ws_bytes));
  Buffer workspace(ws_bytes, x.device());
  const float one = 1.0f, zero = 0.0f;
  SC_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x, x.data<float>(), d.w, w.data<float>(), d.conv, algo,
                                         workspace.data(), ws_bytes, &zero, d.y, y.data<float>()));
  if (bias.defined()) {
    SC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, i32(y.size(1)), 1, 1));
    SC_CUDNN_CHECK(cudnnAddTensor(h, &one, d.b, bias.data<float>(), &one, d.y, y.data<float>()));
  }
}

}  // namespace sc::cuda
