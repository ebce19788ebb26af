// Which implementation runs conv2d and linear on CUDA: the hand-written kernels or the vendor libraries
// (cuDNN, cuBLAS), side by side for benchmarking. The CPU always runs the reference.
#pragma once

namespace sc {

enum class Backend { Default, Handwritten, Vendor };

// The process-wide choice that Backend::Default resolves to (initially Handwritten; the environment variable
// SMOOTHCUDA_BACKEND=vendor|handwritten overrides it at start-up).
void set_default_backend(Backend b);
Backend resolve_backend(Backend b);
const char* backend_name(Backend b);

}  // namespace sc
