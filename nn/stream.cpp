#include "nn/stream.h"

#include "nn/error.h"
#include "nn/runtime.h"
#ifdef SMOOTHCUDA_HAVE_CUDA
#include "nn/cuda_check.h"
#endif

namespace sc {

namespace {
thread_local void* g_current_stream = nullptr;
}

void* current_stream_handle() { return g_current_stream; }

#ifdef SMOOTHCUDA_HAVE_CUDA
Stream::Stream(int device) : device_(device) {
  require_cuda_device(device);
  SC_CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t s;
  SC_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  handle_ = s;
}
Stream::~Stream() {
  if (handle_) cudaStreamDestroy(static_cast<cudaStream_t>(handle_));
}
void Stream::synchronize() const { SC_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_))); }
void synchronize_current_stream() { SC_CUDA_CHECK(cudaStreamSynchronize(cuda::stream())); }
#else
Stream::Stream(int device) : device_(device) { require_cuda_device(device); }
Stream::~Stream() = default;
void Stream::synchronize() const {}
void synchronize_current_stream() {}
#endif

StreamGuard::StreamGuard(const Stream& s) : previous_(g_current_stream) { g_current_stream = s.handle(); }
StreamGuard::~StreamGuard() { g_current_stream = previous_; }

}  // namespace sc
