// Process-wide runtime facts and switches: is CUDA usable, and the debug switch that synchronizes
// after every kernel launch (SMOOTHCUDA_SYNC_LAUNCHES=1 in the environment sets it too).
#pragma once
#include <cstdint>
#include <string>

namespace sc {

bool built_with_cuda();
// True when the build has CUDA and at least one device answers.
bool cuda_available();
int cuda_device_count();
// Why CUDA cannot be used here (empty when it can).
std::string cuda_unavailable_reason();
// Throws a clear error unless CUDA device k can be used.
void require_cuda_device(int k);

// Sizes the fast engine's cache blocking needs (engine/schedule.h): CUDA device k's L2 cache and
// multiprocessors (0 without CUDA), and the CPU path's OpenMP threads.
int64_t cuda_l2_cache_bytes(int k);
int cuda_multiprocessor_count(int k);
// Device memory free on CUDA device k now (cudaMemGetInfo; 0 without CUDA).
int64_t cuda_free_memory_bytes(int k);
// Host memory available to a new allocation without swapping (Linux: MemAvailable of /proc/meminfo; else
// the free physical pages).
int64_t host_available_memory_bytes();
int cpu_threads();

// A choice that the environment can turn off (NAME=0), for a device to compare both ways
// (scripts/gpu-check.sh): on unless NAME is "0".
bool env_switch_on(const char* name);
// A choice the environment turns on (NAME set, and to neither "" nor "0"): off by default.
bool env_flag_set(const char* name);

void set_sync_after_launch(bool on);
bool sync_after_launch();

// Hopper's wgmma kernel for fused_conv's wide 16-bit convolutions (kernels/cuda/fused_conv.cu): off unless
// SMOOTHCUDA_WGMMA=1 (or set_wgmma_conv(true)) until a device has run its tests and timed it.
void set_wgmma_conv(bool on);
bool wgmma_conv_enabled();

}  // namespace sc
