// Functions shared by the CPU reference and the CUDA kernels (one formula, both paths): under nvcc they
// compile for host and device, elsewhere they are plain inline functions.
#pragma once

#ifdef __CUDACC__
#define SC_HOST_DEVICE __host__ __device__ inline
#define SC_HOST_DEVICE_FORCEINLINE __host__ __device__ __forceinline__
#else
#define SC_HOST_DEVICE inline
#define SC_HOST_DEVICE_FORCEINLINE inline
#endif
