// libFuzzer entry point for the readers of untrusted files (input_parsers.h). The reader is chosen by the
// SC_FUZZ_TARGET environment variable; scripts/fuzz.sh builds this with Clang's fuzzer, address and
// undefined-behaviour sanitizers and runs every reader on its seed corpus. sc::Error is the expected outcome
// of a bad file; any other exception escapes and libFuzzer reports it with the input that threw it.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/input_parsers.h"
#include "nn/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sc::test::InputParser& parser = [] {
    const char* name = std::getenv("SC_FUZZ_TARGET");
    return sc::test::input_parser(name ? name : "");
  }();
  try {
    parser.parse(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const sc::Error&) {
  }
  return 0;
}
