// smoothcuda info: what this build can do here.
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "nn/models/registry.h"
#include "nn/runtime.h"

namespace sc::app {

int info_command(int argc, char** argv) {
  Args args("info", "Prints the build configuration, the CUDA devices and the known architectures.");
  if (!args.parse(argc, argv, 2)) return 0;
  std::printf("smoothcuda: CUDA %s\n", built_with_cuda() ? "compiled in" : "not compiled in (CPU-only build)");
  const std::string why = cuda_unavailable_reason();
  if (why.empty())
    std::printf("CUDA devices: %d\n", cuda_device_count());
  else
    std::printf("CUDA devices: none (%s)\n", why.c_str());
  std::printf("architectures:");
  for (const auto& a : model_archs()) std::printf(" %s", a.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace sc::app
