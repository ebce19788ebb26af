// The emulated library has no cuDNN or cuBLAS (they run only on a device): their wrappers say so. The
// emulated GPU tests leave out the vendor back end's cases (tests/CMakeLists.txt).
#include "kernels/conv2d.h"
#include "kernels/linear.h"
#include "nn/error.h"

namespace sc::cuda {

void conv2d_cudnn(const Tensor&, const Tensor&, const Tensor&, const Conv2dParams&, Tensor&) {
  SC_FAIL("conv2d_cudnn: cuDNN is not emulated (SIMT emulator build)");
}
void linear_cublas(const Tensor&, const Tensor&, const Tensor&, Tensor&) {
  SC_FAIL("linear_cublas: cuBLAS is not emulated (SIMT emulator build)");
}

}  // namespace sc::cuda
