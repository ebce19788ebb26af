// CUDA streams. Kernels launch on the calling thread's current stream (the default stream unless a
// StreamGuard says otherwise). The handle is opaque here so host code needs no CUDA headers.
#pragma once
#include "nn/device.h"

namespace sc {

class Stream {
 public:
  explicit Stream(int device = 0);  // creates a non-blocking stream on the device
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* handle() const { return handle_; }
  int device() const { return device_; }
  void synchronize() const;

 private:
  void* handle_ = nullptr;
  int device_ = 0;
};

// The current stream handle of this thread (nullptr = the legacy default stream).
void* current_stream_handle();
// Waits for the work queued on the current stream when `device` is a CUDA device; nothing to wait for on the CPU.
void synchronize(Device device);

// Times device work on the current stream with CUDA events (start, then stop → seconds between them).
class DeviceTimer {
 public:
  DeviceTimer();
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;
  void start();
  double stop_seconds();  // waits for the stop event

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

class StreamGuard {
 public:
  explicit StreamGuard(const Stream& s);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  void* previous_;
};

}  // namespace sc
