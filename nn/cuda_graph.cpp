#include "nn/cuda_graph.h"

#include "nn/error.h"
#include "nn/runtime.h"
#include "nn/stream.h"
#ifdef SMOOTHCUDA_HAVE_CUDA
#include "nn/cuda_check.h"
#endif

namespace sc {

namespace {
thread_local bool g_capturing = false;
}

bool capturing_graph() {
  return g_capturing;
}

#ifdef SMOOTHCUDA_HAVE_CUDA
CudaGraph CudaGraph::capture(int device, const std::function<void()>& queue_work) {
  SC_CHECK(!g_capturing, "CudaGraph: a capture inside a capture");
  Stream stream(device);  // the legacy default stream cannot be captured
  StreamGuard guard(stream);
  const auto s = static_cast<cudaStream_t>(stream.handle());
  // Thread-local mode: this thread's unsafe calls (cudaMalloc, synchronization) fail instead of racing.
  SC_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  cudaGraph_t graph = nullptr;
  g_capturing = true;
  try {
    queue_work();
  } catch (...) {
    g_capturing = false;
    cudaStreamEndCapture(s, &graph);
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();  // the capture's error is reported by the exception
    throw;
  }
  g_capturing = false;
  SC_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  SC_CUDA_CHECK(err);
  CudaGraph g;
  g.exec_ =
      std::shared_ptr<void>(exec, [](void* e) { cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(e)); });
  return g;
}

void CudaGraph::launch() const {
  SC_CHECK(exec_ != nullptr, "CudaGraph: launch of an empty graph");
  SC_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_.get()), cuda::stream()));
  SC_CUDA_LAUNCH_CHECK("a CUDA graph");
}
#else
CudaGraph CudaGraph::capture(int, const std::function<void()>&) {
  SC_FAIL("CudaGraph: ", cuda_unavailable_reason());
}
void CudaGraph::launch() const {
  SC_FAIL("CudaGraph: ", cuda_unavailable_reason());
}
#endif

}  // namespace sc
