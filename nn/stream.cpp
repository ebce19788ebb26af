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
void synchronize(Device device) {
  if (device.is_cuda()) SC_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
}

DeviceTimer::DeviceTimer() {
  cudaEvent_t a, b;
  SC_CUDA_CHECK(cudaEventCreate(&a));
  SC_CUDA_CHECK(cudaEventCreate(&b));
  start_ = a;
  stop_ = b;
}
DeviceTimer::~DeviceTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}
void DeviceTimer::start() { SC_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_), cuda::stream())); }
double DeviceTimer::stop_seconds() {
  SC_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_), cuda::stream()));
  SC_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  SC_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return ms / 1000.0;
}
#else
Stream::Stream(int device) : device_(device) { require_cuda_device(device); }
Stream::~Stream() = default;
void Stream::synchronize() const {}
void synchronize(Device) {}
DeviceTimer::DeviceTimer() { SC_FAIL("DeviceTimer: ", cuda_unavailable_reason()); }
DeviceTimer::~DeviceTimer() = default;
void DeviceTimer::start() {}
double DeviceTimer::stop_seconds() { return 0; }
#endif

StreamGuard::StreamGuard(const Stream& s) : previous_(g_current_stream) { g_current_stream = s.handle(); }
StreamGuard::~StreamGuard() { g_current_stream = previous_; }

}  // namespace sc
