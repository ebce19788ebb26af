// A CUDA runtime for the SIMT emulator: the runtime calls the library's host code makes (nn/memory.cpp,
// nn/stream.cpp, nn/runtime.cpp), with one emulated device whose memory is host memory, so that the library's
// own objects, linked with the emulated kernels instead of nvcc's, run the GPU tests on a CPU.
//
// "Device" allocations are tracked: a kernel launched with a pointer argument outside them (a host pointer
// handed to a kernel), a copy or memset that runs past one, and freeing anything else are errors here, as
// they would be faults on the device. Work runs synchronously, so streams and events only keep their
// handles; timings read 0.
//
// Stream capture records instead of running: launches (simt's recorder), device-to-device copies and
// memsets become the graph's work, run in order by each cudaGraphLaunch. What a capturing stream refuses on
// a GPU is refused here and invalidates the capture: copies from or to host memory, allocation and freeing,
// synchronization, capture on the legacy default stream.
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "simt.h"

// The runtime's opaque graph handles: the recorded work.
struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

namespace {

struct Registry {
  std::mutex mutex;
  std::map<const char*, size_t> blocks;  // base → bytes
  cudaError_t last_error = cudaSuccess;
  cudaStream_t capturing = nullptr;  // the stream being captured (never the legacy one)
  CUgraph_st* capture = nullptr;
  bool capture_invalidated = false;
};
Registry& registry() {
  static Registry r;
  return r;
}

// Whether [p, p + bytes) lies inside one device allocation.
bool in_device_memory(const void* p, size_t bytes) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const char* c = static_cast<const char*>(p);
  auto it = r.blocks.upper_bound(c);
  if (it == r.blocks.begin()) return false;
  --it;
  return c >= it->first && c + bytes <= it->first + it->second;
}

cudaError_t fail(cudaError_t err) {
  registry().last_error = err;
  return err;
}

// What a call a capture refuses returns: the capture is invalidated, as on a GPU.
cudaError_t refuse_while_capturing() {
  registry().capture_invalidated = true;
  return fail(cudaErrorStreamCaptureUnsupported);
}
bool capturing() {
  return registry().capture != nullptr;
}

// Registered before any test runs: every pointer a kernel receives must point into device memory.
const bool kChecksKernelPointers = [] {
  simt::set_pointer_check([](const void* p) {
    if (!in_device_memory(p, 1))
      throw std::runtime_error("simt: a kernel received a pointer outside device memory (a host pointer?)");
  });
  return true;
}();

}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
// Parenthesized: simt.h makes cudaDeviceGetAttribute a macro for the kernel files.
cudaError_t(cudaDeviceGetAttribute)(int* value, cudaDeviceAttr attribute, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  return simt::get_device_attribute(value, attribute, device);
}
cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}
cudaError_t cudaGetLastError() {
  const cudaError_t e = registry().last_error;
  registry().last_error = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported (operation not permitted when stream is capturing)";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureUnmatched:
      return "cudaErrorStreamCaptureUnmatched";
    default:
      return "cudaError (emulated)";
  }
}
const char* cudaGetErrorString(cudaError_t error) {
  return cudaGetErrorName(error);
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (capturing()) return refuse_while_capturing();
  // The device's 256-byte alignment, and exactly the bytes asked for, so that AddressSanitizer
  // (scripts/emulator-sanitizer.sh address) reports a kernel's access past them.
  *p = nullptr;
  if (bytes != 0 && posix_memalign(p, 256, bytes) != 0) return fail(cudaErrorMemoryAllocation);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (*p != nullptr) r.blocks[static_cast<const char*>(*p)] = bytes;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (capturing()) return refuse_while_capturing();
  if (p == nullptr) return cudaSuccess;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.blocks.erase(static_cast<const char*>(p)) == 0) return fail(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

// An H100's memory as far as the batch choice asks (nothing is reserved by it).
cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  *total = size_t{80} << 30;
  *free = size_t{64} << 30;
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  if (bytes == 0) return cudaSuccess;
  if (!in_device_memory(p, bytes)) return fail(cudaErrorInvalidValue);
  if (capturing()) {
    registry().capture->work.push_back([=] { std::memset(p, value, bytes); });
    return cudaSuccess;
  }
  std::memset(p, value, bytes);
  return cudaSuccess;
}
// With unified addressing (cudaMemcpyDefault) either side may be host memory; at least one is the device's.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (bytes == 0) return cudaSuccess;
  const bool dst_device = in_device_memory(dst, bytes), src_device = in_device_memory(src, bytes);
  const bool ok = kind == cudaMemcpyDefault          ? dst_device || src_device
                  : kind == cudaMemcpyHostToDevice   ? dst_device && !src_device
                  : kind == cudaMemcpyDeviceToHost   ? src_device && !dst_device
                  : kind == cudaMemcpyDeviceToDevice ? src_device && dst_device
                                                     : false;
  if (!ok) return fail(cudaErrorInvalidValue);
  if (capturing()) {
    if (!dst_device || !src_device) return refuse_while_capturing();  // pageable host memory
    registry().capture->work.push_back([=] { std::memmove(dst, src, bytes); });
    return cudaSuccess;
  }
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t bytes,
                                cudaStream_t stream) {
  if (dst_device != 0 || src_device != 0) return fail(cudaErrorInvalidDevice);
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream);
}

cudaError_t cudaDeviceSynchronize() {
  return capturing() ? refuse_while_capturing() : cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = reinterpret_cast<cudaStream_t>(new char);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  return capturing() ? refuse_while_capturing() : cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new char);
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<char*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) {
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) {
  return capturing() ? refuse_while_capturing() : cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) {
  *ms = 0.0f;
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  Registry& r = registry();
  if (stream == nullptr || stream == cudaStreamLegacy || r.capture != nullptr)
    return fail(cudaErrorStreamCaptureUnsupported);
  r.capturing = stream;
  r.capture = new CUgraph_st;
  r.capture_invalidated = false;
  simt::set_launch_recorder(&r.capture->work);
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  Registry& r = registry();
  *graph = nullptr;
  if (r.capture == nullptr || stream != r.capturing) return fail(cudaErrorStreamCaptureUnmatched);
  simt::set_launch_recorder(nullptr);
  CUgraph_st* g = r.capture;
  r.capture = nullptr;
  r.capturing = nullptr;
  if (r.capture_invalidated) {
    delete g;
    return fail(cudaErrorStreamCaptureInvalidated);
  }
  *graph = g;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  const Registry& r = registry();
  *status = r.capture != nullptr && stream == r.capturing
                ? (r.capture_invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive)
                : cudaStreamCaptureStatusNone;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (graph == nullptr) return fail(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->work};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
  if (exec == nullptr) return fail(cudaErrorInvalidValue);
  if (capturing()) return refuse_while_capturing();  // not modelled: a graph launched into a capture
  for (const std::function<void()>& work : exec->work) work();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
