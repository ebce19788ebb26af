// Whole-file reads and crash-safe writes (write to PATH.tmp, then rename), with errors naming the file.
#pragma once
#include <string>

namespace sc::io {

std::string read_file(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace sc::io
