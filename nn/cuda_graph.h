// CUDA graphs: the device work a piece of host code queues, recorded once (stream capture) and replayed with
// one launch. A fast-engine batch is some 100–250 kernels; replayed as a graph it costs the host one call
// instead of a launch each, and the device starts each kernel without waiting on the host.
//
// A graph replays exactly what was captured: the same kernels on the same buffers with the same by-value
// arguments. What changes from one replay to the next must therefore live in device memory that the graph
// reads (see NoisyInput::staged).
#pragma once
#include <functional>
#include <memory>

namespace sc {

class CudaGraph {
 public:
  CudaGraph() = default;  // empty: launch() fails
  // Runs `queue_work` with a private stream of `device` as the current stream while that stream is
  // captured: nothing runs, the queued work becomes the graph. Anything else the work asks of the runtime
  // (allocating device memory, synchronizing, copying from host memory) throws, and nothing is captured.
  static CudaGraph capture(int device, const std::function<void()>& queue_work);
  // Queues the whole graph on the current stream.
  void launch() const;
  bool empty() const { return exec_ == nullptr; }

 private:
  std::shared_ptr<void> exec_;
};

// Whether this thread is capturing a graph now. Device buffers are not allocated then (their memory would be
// reused while the graph still reads it), and the debug launch check does not synchronize.
bool capturing_graph();

}  // namespace sc
