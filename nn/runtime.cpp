#include "nn/runtime.h"

#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "nn/cuda_graph.h"
#include "nn/error.h"
#ifdef SMOOTHCUDA_HAVE_CUDA
#include <cuda_runtime.h>

#include "nn/cuda_check.h"
#endif

namespace sc {

bool env_flag_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "0") != 0 && v[0] != '\0';
}

namespace {
std::atomic<bool>& sync_flag() {
  static std::atomic<bool> flag{env_flag_set("SMOOTHCUDA_SYNC_LAUNCHES")};
  return flag;
}
std::atomic<bool>& wgmma_flag() {
  static std::atomic<bool> flag{env_flag_set("SMOOTHCUDA_WGMMA")};
  return flag;
}
}  // namespace

bool built_with_cuda() {
#ifdef SMOOTHCUDA_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef SMOOTHCUDA_HAVE_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" error
    return 0;
  }
  return n;
#else
  return 0;
#endif
}

bool cuda_available() { return cuda_device_count() > 0; }

std::string cuda_unavailable_reason() {
#ifdef SMOOTHCUDA_HAVE_CUDA
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device: ") + cudaGetErrorString(err);
  }
  if (n == 0) return "no CUDA device present";
  return "";
#else
  return "smoothcuda was built without CUDA (-DSMOOTHCUDA_CUDA=OFF or no toolkit found)";
#endif
}

void require_cuda_device(int k) {
  const std::string why = cuda_unavailable_reason();
  SC_CHECK(why.empty(), "CUDA device cuda:", k, " requested but ", why);
  SC_CHECK(k >= 0 && k < cuda_device_count(), "CUDA device cuda:", k, " does not exist (", cuda_device_count(),
           " present)");
}

#ifdef SMOOTHCUDA_HAVE_CUDA
int64_t cuda_l2_cache_bytes(int k) {
  int bytes = 0;
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, k));
  return bytes;
}
int cuda_multiprocessor_count(int k) {
  int n = 0;
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, k));
  return n;
}
int64_t cuda_free_memory_bytes(int k) {
  SC_CUDA_CHECK(cudaSetDevice(k));
  size_t free = 0, total = 0;
  SC_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return static_cast<int64_t>(free);
}
#else
int64_t cuda_l2_cache_bytes(int) { return 0; }
int64_t cuda_free_memory_bytes(int) { return 0; }
int cuda_multiprocessor_count(int) { return 0; }
#endif

int64_t host_available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;  // "MemAvailable: n kB"
  }
  return static_cast<int64_t>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

int cpu_threads() {
  return omp_get_max_threads();
}

bool env_switch_on(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr || std::string(v) != "0";
}

void set_sync_after_launch(bool on) { sync_flag() = on; }
bool sync_after_launch() { return sync_flag(); }

void set_wgmma_conv(bool on) {
  wgmma_flag() = on;
}
bool wgmma_conv_enabled() {
  return wgmma_flag();
}

#ifdef SMOOTHCUDA_HAVE_CUDA
namespace cuda {
void throw_cuda_error(cudaError_t err, const char* stmt, const char* file, int line) {
  SC_FAIL("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in `", stmt, "` at ", file, ":",
          line);
}

void check_launch(const char* kernel, const char* file, int line) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    SC_FAIL("CUDA launch of ", kernel, " failed: ", cudaGetErrorString(err), " at ", file, ":", line);
  if (sync_after_launch() && !capturing_graph()) {  // a capturing stream runs nothing yet
    err = cudaStreamSynchronize(stream());
    if (err != cudaSuccess)
      SC_FAIL("CUDA kernel ", kernel, " failed while running: ", cudaGetErrorString(err), " at ", file, ":", line);
  }
}
}  // namespace cuda
#endif

}  // namespace sc
