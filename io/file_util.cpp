#include "io/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nn/error.h"

namespace sc::io {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SC_CHECK(f.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  SC_CHECK(!f.bad(), "error reading '", path, "'");
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    SC_CHECK(f.good(), "cannot write '", tmp, "': ", std::strerror(errno));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    SC_CHECK(f.good(), "error writing '", tmp, "' (disk full?)");
  }
  SC_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path, "': ",
           std::strerror(errno));
}

}  // namespace sc::io
