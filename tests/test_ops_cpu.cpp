// Every op's CPU reference against PyTorch (float64 reference rounded to float32) on the odd-shape table.
#include "op_runner.h"

namespace sc::test {
namespace {

class OpFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(OpFixture, CpuMatchesPyTorch) {
  const std::string op = GetParam();
  const auto cases = load_fixture(op);
  for (const auto& c : cases) {
    SCOPED_TRACE(op + "/" + c.name);
    const Tensor y = run_fixture_case(op, c, Device::cpu());
    EXPECT_TRUE(allclose(y, c.at("out"), fixture_tolerance(op)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpFixture, ::testing::ValuesIn(op_fixture_names()),
                         [](const auto& info) { return info.param; });

// The fixtures themselves must not be trivial: a test on zeros proves nothing. Every float input is mostly
// nonzero and takes more than one value.
TEST(OpFixtures, InputsAreNotTrivial) {
  for (const auto& op : op_fixture_names())
    for (const auto& c : load_fixture(op))
      for (const auto& [name, t] : c.tensors) {
        if (name == "out" || t.dtype() != DType::F32 || t.numel() < 2) continue;
        const std::vector<float> v = t.to_float_vector();
        size_t nonzero = 0, distinct_from_first = 0;
        for (float f : v) {
          nonzero += f != 0.0f;
          distinct_from_first += f != v[0];
        }
        EXPECT_GT(nonzero, v.size() / 2) << op << "/" << c.name << "." << name;
        EXPECT_GT(distinct_from_first, 0u) << op << "/" << c.name << "." << name;
      }
}

}  // namespace
}  // namespace sc::test
