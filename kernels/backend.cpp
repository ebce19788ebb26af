#include "kernels/backend.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "nn/error.h"

namespace sc {

namespace {
std::atomic<Backend>& default_backend() {
  static std::atomic<Backend> b{[] {
    const char* v = std::getenv("SMOOTHCUDA_BACKEND");
    if (v == nullptr || std::string(v).empty() || std::string(v) == "handwritten") return Backend::Handwritten;
    if (std::string(v) == "vendor") return Backend::Vendor;
    SC_FAIL("SMOOTHCUDA_BACKEND='", v, "': expected handwritten or vendor");
  }()};
  return b;
}
}  // namespace

void set_default_backend(Backend b) {
  SC_CHECK(b != Backend::Default, "set_default_backend: choose Handwritten or Vendor");
  default_backend() = b;
}

Backend resolve_backend(Backend b) { return b == Backend::Default ? default_backend().load() : b; }

const char* backend_name(Backend b) {
  switch (resolve_backend(b)) {
    case Backend::Vendor: return "vendor";
    default: return "handwritten";
  }
}

}  // namespace sc
