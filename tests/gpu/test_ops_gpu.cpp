// CUDA against the CPU reference for every op on the fixture shapes (and against PyTorch's values), with both
// conv2d/linear back ends. Skips with the reason where no GPU is present.
#include "kernels/backend.h"
#include "nn/runtime.h"
#include "op_runner.h"

namespace sc::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason()

struct GpuCase {
  std::string op;
  Backend backend;
};

void PrintTo(const GpuCase& c, std::ostream* os) { *os << c.op << "/" << backend_name(c.backend); }

class GpuOp : public ::testing::TestWithParam<GpuCase> {};

TEST_P(GpuOp, CudaMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const auto& [op, backend] = GetParam();
  for (const auto& c : load_fixture(op)) {
    SCOPED_TRACE(op + "/" + c.name + " backend " + backend_name(backend));
    const Tensor cpu = run_fixture_case(op, c, Device::cpu());
    const Tensor gpu = run_fixture_case(op, c, Device::cuda(0), backend);
    EXPECT_TRUE(allclose(gpu, cpu, fixture_tolerance(op)));
    EXPECT_TRUE(allclose(gpu, c.at("out"), fixture_tolerance(op)));
  }
}

std::vector<GpuCase> gpu_cases() {
  std::vector<GpuCase> v;
  for (const auto& op : op_fixture_names()) {
    v.push_back({op, Backend::Handwritten});
    if (op == "conv2d" || op == "linear") v.push_back({op, Backend::Vendor});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllOps, GpuOp, ::testing::ValuesIn(gpu_cases()), [](const auto& info) {
  return info.param.op + (info.param.backend == Backend::Vendor ? "_vendor" : "_handwritten");
});

}  // namespace
}  // namespace sc::test
