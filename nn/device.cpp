#include "nn/device.h"

#include "nn/error.h"

namespace sc {

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string k = text.substr(5);
    SC_CHECK(!k.empty() && k.find_first_not_of("0123456789") == std::string::npos,
             "bad device '", text, "': expected cpu, cuda or cuda:K");
    return cuda(std::stoi(k));
  }
  SC_FAIL("bad device '", text, "': expected cpu, cuda or cuda:K");
}

}  // namespace sc
