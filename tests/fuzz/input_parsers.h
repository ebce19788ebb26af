// The readers of untrusted files, each behind one signature: the bytes of a file in, the product's use of
// them (parse, then build what the file describes), and either success or an sc::Error. Anything else —
// another exception, a crash, a sanitizer report — is a bug. Shared by the fuzzer (fuzz_inputs.cpp,
// scripts/fuzz.sh) and the corrupt-input test that replays mutations of real files in CI
// (test_corrupt_inputs.cpp).
#pragma once
#include <string>
#include <vector>

namespace sc::test {

struct InputParser {
  const char* name;
  void (*parse)(const std::string& bytes);
};

const std::vector<InputParser>& input_parsers();
const InputParser& input_parser(const std::string& name);  // throws sc::Error for an unknown name

}  // namespace sc::test
