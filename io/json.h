// A small JSON reader and writer, enough for safetensors headers and metadata (no external dependency).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sc::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;               // the string, or the number's literal as written
  std::vector<Value> items;       // Array
  struct Member;                  // {key, value}: a pair of an incomplete Value is not allowed
  std::vector<Member> members;    // Object, in file order

  const Value* find(const std::string& key) const;
  bool is_integer() const;  // a Number written without fraction or exponent
  int64_t as_int() const;   // throws unless is_integer()
};

struct Value::Member {
  std::string key;
  Value value;
};

// Parses `text`; `what` names the source in error messages ("header of model.safetensors").
Value parse(const std::string& text, const std::string& what);
std::string quote(const std::string& s);  // a JSON string literal

}  // namespace sc::json
