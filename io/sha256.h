// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex: records which checkpoint a model file came from.
#pragma once
#include <string>

namespace sc::io {
std::string sha256_hex(const std::string& bytes);
}
