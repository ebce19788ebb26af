// Runs one fixture case of an op on a chosen device, so the CPU tests (against PyTorch) and the GPU tests
// (CUDA against the CPU) call every op the same way.
#pragma once
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "test_util.h"

namespace sc::test {

// The fixture files, one per op family (tests/fixtures/ops/<name>.safetensors).
const std::vector<std::string>& op_fixture_names();
// The op's output for the case, copied back to the CPU.
Tensor run_fixture_case(const std::string& op, const FixtureCase& c, Device device,
                        Backend backend = Backend::Default);
// The tolerance (relative) declared for the op's float32 results.
double fixture_tolerance(const std::string& op);

}  // namespace sc::test
