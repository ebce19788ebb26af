// IEEE binary16 and bfloat16 storage types with float conversion (round to nearest even).
#pragma once
#include <cstdint>
#include <cstring>

namespace sc {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct BFloat16 {
  uint16_t bits = 0;
  static BFloat16 from_float(float f) {
    uint32_t u = float_bits(f);
    BFloat16 b;
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN stays a (quiet) NaN
      b.bits = static_cast<uint16_t>((u >> 16) | 0x40u);
      return b;
    }
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    b.bits = static_cast<uint16_t>(u >> 16);
    return b;
  }
  float to_float() const { return bits_float(static_cast<uint32_t>(bits) << 16); }
};

struct Half {
  uint16_t bits = 0;
  static Half from_float(float f);
  float to_float() const;
};

}  // namespace sc
