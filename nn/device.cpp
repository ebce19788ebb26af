#include "nn/device.h"

#include "nn/error.h"
#include "nn/parse_number.h"

namespace sc {

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string k = text.substr(5);
    const auto index = parse_int64(k);
    SC_CHECK(index && *index >= 0 && *index < 1024 && k.find_first_not_of("0123456789") == std::string::npos,
             "bad device '", text, "': expected cpu, cuda or cuda:K");
    return cuda(static_cast<int>(*index));
  }
  SC_FAIL("bad device '", text, "': expected cpu, cuda or cuda:K");
}

}  // namespace sc
