#include "kernels/cuda/common.cuh"
#include "kernels/strided_copy.h"

namespace sc::cuda {

namespace {
struct Layout {
  int nd;
  long long shape[8], src_stride[8], dst_stride[8];
};

template <typename T>
__global__ void strided_copy_kernel(const T* src, T* dst, long long n, Layout l) {
  SC_GRID_STRIDE_LOOP(i, n) {
    long long rem = i, so = 0, dof = 0;
    for (int k = l.nd - 1; k >= 0; --k) {
      const long long c = rem % l.shape[k];
      rem /= l.shape[k];
      so += c * l.src_stride[k];
      dof += c * l.dst_stride[k];
    }
    dst[dof] = src[so];
  }
}

// Elements of 1, 2, 4 or 8 bytes are moved as unsigned values of that width.
template <typename T>
void launch(const Tensor& src, Tensor& dst, const Layout& l) {
  const long long n = src.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, strided_copy_kernel<T>)(
      static_cast<const T*>(src.raw_data()), static_cast<T*>(dst.raw_data()), n, l);
  SC_CUDA_LAUNCH_CHECK("strided_copy_kernel");
}
}  // namespace

void strided_copy(const Tensor& src, Tensor& dst) {
  if (src.is_contiguous() && dst.is_contiguous()) {
    SC_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  Layout l{};
  l.nd = static_cast<int>(src.dim());
  for (int k = 0; k < l.nd; ++k) {
    l.shape[k] = src.shape()[k];
    l.src_stride[k] = src.strides()[k];
    l.dst_stride[k] = dst.strides()[k];
  }
  visit_move_unit(static_cast<int>(dtype_size(src.dtype())), [&]<typename U>() { launch<U>(src, dst, l); });
}

}  // namespace sc::cuda
