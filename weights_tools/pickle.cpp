#include "weights_tools/pickle.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "nn/parse_number.h"

namespace sc::pickle {

namespace {

// The only globals a checkpoint may name. Storage classes and a few pure constructors; nothing that runs code.
const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> g = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch._tensor._rebuild_from_type_v2",
      "torch.Tensor",
      "torch.nn.parameter.Parameter",
      "torch.FloatStorage",
      "torch.DoubleStorage",
      "torch.HalfStorage",
      "torch.BFloat16Storage",
      "torch.LongStorage",
      "torch.IntStorage",
      "torch.ByteStorage",
      "torch.BoolStorage",
      "torch.float32",
      "torch.float64",
      "torch.float16",
      "torch.bfloat16",
      "torch.int64",
      "torch.int32",
      "torch.uint8",
      "torch.bool",
      "numpy.core.multiarray.scalar",
      "numpy.core.multiarray._reconstruct",
      "numpy._core.multiarray.scalar",
      "numpy._core.multiarray._reconstruct",
      "numpy.ndarray",
      "numpy.dtype",
      "_codecs.encode",
  };
  return g;
}

ValuePtr new_value(Value::Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}

// Deeper nesting than any checkpoint has (a state dict is 2–4 levels), and shallow enough that the recursive
// functions on values (describe, destruction of the shared pointers) stay far from the stack's end.
constexpr int kMaxDepth = 200;

class Machine {
 public:
  Machine(const std::string& data, size_t pos, const PersistentLoad& pl, const std::string& what)
      : d_(data), pos_(pos), persistent_load_(pl), what_(what) {}

  // Runs the pickle, then refuses a structure no checkpoint has: a cycle (a list that holds itself, which the
  // memo makes possible and shared pointers would leak) or nesting deeper than kMaxDepth. A refused or failed
  // pickle's containers are emptied before they go, so that nothing leaks and no destructor recurses deeply.
  Unpickled load() {
    try {
      Unpickled r = run();
      check_structure();
      return r;
    } catch (...) {
      dismantle();
      throw;
    }
  }

 private:
  Unpickled run() {
    for (;;) {
      const size_t at = pos_;
      const uint8_t op = u8();
      if (op == '.') {  // STOP
        SC_CHECK(!stack_.empty(), what_, ": pickle ended with an empty stack");
        return {stack_.back(), pos_};
      }
      step(op, at);
    }
  }

  [[noreturn]] void fail(const std::string& msg) { SC_FAIL(what_, ": ", msg); }

  // Every value that can hold others (tuples, lists, dicts) is made here and remembered.
  ValuePtr make(Value::Kind k) {
    ValuePtr v = new_value(k);
    if (k == Value::Kind::Tuple || k == Value::Kind::List || k == Value::Kind::Dict) containers_.push_back(v);
    return v;
  }
  static std::vector<Value*> children(const Value& v) {
    std::vector<Value*> out;
    for (const auto& i : v.items) out.push_back(i.get());
    for (const auto& [k, x] : v.entries) out.push_back(k.get()), out.push_back(x.get());
    return out;
  }
  // Depth-first over every container, without recursion: a child still on the path is a cycle.
  void check_structure() {
    enum class State { OnPath, Done };
    std::unordered_map<const Value*, std::pair<State, int>> seen;  // state, height
    for (const auto& weak : containers_) {
      const ValuePtr root = weak.lock();
      if (!root || seen.count(root.get())) continue;
      struct Frame {
        const Value* v;
        std::vector<Value*> kids;
        size_t next = 0;
        int height = 1;
      };
      std::vector<Frame> path;
      path.push_back({root.get(), children(*root)});
      seen[root.get()] = {State::OnPath, 0};
      while (!path.empty()) {
        Frame& f = path.back();
        if (f.next == f.kids.size()) {
          seen[f.v] = {State::Done, f.height};
          const int h = f.height;
          path.pop_back();
          if (!path.empty()) path.back().height = std::max(path.back().height, h + 1);
          continue;
        }
        const Value* c = f.kids[f.next++];
        auto it = seen.find(c);
        if (it != seen.end()) {
          if (it->second.first == State::OnPath) fail("corrupt pickle (a container holds itself)");
          f.height = std::max(f.height, it->second.second + 1);
        } else if (!c->items.empty() || !c->entries.empty()) {
          if (path.size() >= static_cast<size_t>(kMaxDepth))
            fail("corrupt pickle (containers nested deeper than " + std::to_string(kMaxDepth) + " levels)");
          seen[c] = {State::OnPath, 0};
          path.push_back({c, children(*c)});
        }
      }
      if (seen[root.get()].second > kMaxDepth)
        fail("corrupt pickle (containers nested deeper than " + std::to_string(kMaxDepth) + " levels)");
    }
  }
  // Holds every container, then empties each: no cycle survives and no destructor finds a deep chain.
  void dismantle() {
    std::vector<ValuePtr> all;
    for (const auto& weak : containers_)
      if (ValuePtr v = weak.lock()) all.push_back(std::move(v));
    for (const ValuePtr& v : all) v->items.clear(), v->entries.clear();
  }

  void need(size_t n) {
    if (pos_ + n > d_.size()) fail("truncated pickle (needs " + std::to_string(n) + " more bytes at offset " +
                                   std::to_string(pos_) + ", file has " + std::to_string(d_.size()) + ")");
  }
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(d_[pos_++]);
  }
  uint64_t le(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(d_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string bytes(uint64_t n) {
    need(n);
    std::string s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A decimal integer of a text opcode (INT, LONG, PUT, GET); Python's larger longs are refused.
  int64_t text_int(const std::string& s) {
    const auto v = parse_int64(s);
    if (!v) fail("corrupt pickle (integer '" + s.substr(0, 40) + "' in a text opcode)");
    return *v;
  }
  std::string line() {
    const size_t e = d_.find('\n', pos_);
    if (e == std::string::npos) fail("truncated pickle (unterminated text argument)");
    std::string s = d_.substr(pos_, e - pos_);
    pos_ = e + 1;
    return s;
  }

  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty()) fail("corrupt pickle (stack underflow)");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.empty()) fail("corrupt pickle (stack underflow)");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("corrupt pickle (no MARK)");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) fail("corrupt pickle (MARK beyond stack)");
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }

  ValuePtr integer(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->integer = i;
    return v;
  }
  ValuePtr string(std::string s, Value::Kind k = Value::Kind::String) {
    auto v = make(k);
    v->text = std::move(s);
    return v;
  }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto v = make(Value::Kind::Tuple);
    v->items = std::move(items);
    return v;
  }
  ValuePtr long_bytes(const std::string& b) {
    if (b.size() <= 8) {
      uint64_t u = 0;
      for (size_t i = 0; i < b.size(); ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
      if (!b.empty() && b.size() < 8 && (static_cast<uint8_t>(b.back()) & 0x80)) u |= ~0ULL << (8 * b.size());
      return integer(static_cast<int64_t>(u));
    }
    return string(b, Value::Kind::BigInt);
  }

  ValuePtr global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!allowed_globals().count(full))
      fail("refusing to load global '" + full +
           "': the checkpoint reader builds only tensors, storages and plain containers and runs no code from the "
           "file (re-save the checkpoint as a plain state_dict)");
    auto v = make(Value::Kind::Global);
    v->module = module;
    v->name = name;
    return v;
  }

  void add_to_dict(Value& dict, ValuePtr k, ValuePtr v) {
    if (dict.kind != Value::Kind::Dict) fail("corrupt pickle (SETITEM on " + dict.describe() + ")");
    dict.entries.emplace_back(std::move(k), std::move(v));
  }
  void append(Value& list, ValuePtr v) {
    if (list.kind != Value::Kind::List) fail("corrupt pickle (APPEND on " + list.describe() + ")");
    list.items.push_back(std::move(v));
  }

  static int64_t as_int(const Value& v, const char* what) {
    SC_CHECK(v.kind == Value::Kind::Int, "checkpoint: expected an integer for ", what, ", got ", v.describe());
    return v.integer;
  }
  static std::vector<int64_t> as_ints(const Value& v, const char* what) {
    SC_CHECK(v.kind == Value::Kind::Tuple || v.kind == Value::Kind::List, "checkpoint: expected a tuple for ", what,
             ", got ", v.describe());
    std::vector<int64_t> out;
    for (const auto& i : v.items) out.push_back(as_int(*i, what));
    return out;
  }

  ValuePtr rebuild_tensor(const std::vector<ValuePtr>& a) {
    if (a.size() < 4 || a[0]->kind != Value::Kind::Storage) fail("malformed tensor record in checkpoint");
    auto t = std::make_shared<TensorRef>();
    t->storage = a[0]->storage;
    t->offset = as_int(*a[1], "storage offset");
    t->size = as_ints(*a[2], "tensor size");
    t->stride = as_ints(*a[3], "tensor stride");
    if (t->size.size() != t->stride.size()) fail("tensor record has size and stride of different lengths");
    auto v = make(Value::Kind::Tensor);
    v->tensor = t;
    return v;
  }

  // Applies an allowed callable to its arguments (the REDUCE opcode).
  ValuePtr call(const Value& fn, const Value& args) {
    if (fn.kind != Value::Kind::Global) fail("REDUCE on " + fn.describe() + " (only named globals can be called)");
    if (args.kind != Value::Kind::Tuple) fail("REDUCE with non-tuple arguments");
    const std::string f = fn.module + "." + fn.name;
    const auto& a = args.items;
    if (f == "collections.OrderedDict") return make(Value::Kind::Dict);
    if (f == "torch._utils._rebuild_tensor" || f == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(a);
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Value::Kind::Tensor) fail("malformed parameter record in checkpoint");
      return a[0];
    }
    if (f == "torch._tensor._rebuild_from_type_v2") {  // (func, type, args, state): call func(*args)
      if (a.size() < 3) fail("malformed _rebuild_from_type_v2 record");
      return call(*a[0], *a[2]);
    }
    if (f == "numpy.dtype") {
      if (a.empty() || !a[0]->is_string()) fail("malformed numpy.dtype record");
      return string(a[0]->text, Value::Kind::DType);
    }
    if (f == "_codecs.encode") {  // (str, 'latin1'): how protocol 2 stores bytes
      if (a.size() < 1 || !a[0]->is_string()) fail("malformed _codecs.encode record");
      std::string out;
      const std::string& s = a[0]->text;  // UTF-8 of code points < 256
      for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
          out += static_cast<char>(c);
        } else if (i + 1 < s.size()) {
          out += static_cast<char>(((c & 0x1f) << 6) | (static_cast<uint8_t>(s[++i]) & 0x3f));
        }
      }
      return string(out, Value::Kind::Bytes);
    }
    if (f == "numpy.core.multiarray.scalar" || f == "numpy._core.multiarray.scalar") return numpy_scalar(a);
    if (f == "numpy.core.multiarray._reconstruct" || f == "numpy._core.multiarray._reconstruct")
      return make(Value::Kind::NDArray);  // filled by BUILD
    fail("refusing to call '" + f + "' (it only names a type)");
  }

  ValuePtr numpy_scalar(const std::vector<ValuePtr>& a) {
    if (a.size() != 2 || a[0]->kind != Value::Kind::DType || a[1]->kind != Value::Kind::Bytes)
      fail("malformed numpy scalar");
    const std::string& t = a[0]->text;
    const std::string& b = a[1]->text;
    auto read = [&](auto tag) {
      decltype(tag) x;
      if (b.size() != sizeof x) fail("numpy scalar of type " + t + " has " + std::to_string(b.size()) + " bytes");
      std::memcpy(&x, b.data(), sizeof x);
      return x;
    };
    if (t == "f8") return real(read(double{}));
    if (t == "f4") return real(read(float{}));
    if (t == "i8") return integer(read(int64_t{}));
    if (t == "i4") return integer(read(int32_t{}));
    if (t == "u1" || t == "b1") return integer(read(uint8_t{}));
    fail("unsupported numpy scalar type '" + t + "'");
  }

  // ndarray state: (version, shape, dtype, is_fortran, raw data). Only C-order numeric arrays are accepted.
  void build_ndarray(Value& arr, const Value& state) {
    if (state.kind != Value::Kind::Tuple || state.items.size() != 5) fail("malformed numpy array state");
    const auto& st = state.items;
    if (st[2]->kind != Value::Kind::DType) fail("numpy array without a dtype");
    if (st[3]->kind == Value::Kind::Bool && st[3]->boolean) fail("Fortran-order numpy arrays are not supported");
    if (st[4]->kind != Value::Kind::Bytes && st[4]->kind != Value::Kind::String)
      fail("numpy array of objects (not raw data) refused");
    arr.array_shape = as_ints(*st[1], "numpy array shape");
    arr.array_type = st[2]->text;
    arr.text = st[4]->text;
  }

  ValuePtr real(double x) {
    auto v = make(Value::Kind::Float);
    v->real = x;
    return v;
  }

  void step(uint8_t op, size_t at) {
    switch (op) {
      case 0x80: u8(); break;              // PROTO
      case 0x95: le(8); break;             // FRAME (length only; data follows inline)
      case '(': marks_.push_back(stack_.size()); break;
      case '0': pop(); break;              // POP
      case '1': pop_mark(); break;         // POP_MARK
      case '2': push(top()); break;        // DUP
      case 'N': push(make(Value::Kind::None)); break;
      case 0x88:
      case 0x89: {
        auto v = make(Value::Kind::Bool);
        v->boolean = op == 0x88;
        push(v);
        break;
      }
      case 'J': push(integer(static_cast<int32_t>(le(4)))); break;
      case 'K': push(integer(static_cast<int64_t>(le(1)))); break;
      case 'M': push(integer(static_cast<int64_t>(le(2)))); break;
      case 0x8a: push(long_bytes(bytes(le(1)))); break;  // LONG1
      case 0x8b: push(long_bytes(bytes(le(4)))); break;  // LONG4
      case 'I': {                                        // INT (text; also True/False as 01/00)
        const std::string s = line();
        if (s == "01" || s == "00") {
          auto v = make(Value::Kind::Bool);
          v->boolean = s == "01";
          push(v);
        } else {
          push(integer(text_int(s)));
        }
        break;
      }
      case 'L': {
        std::string s = line();
        if (!s.empty() && s.back() == 'L') s.pop_back();
        push(integer(text_int(s)));
        break;
      }
      case 'F': {  // FLOAT (text)
        const std::string s = line();
        const auto v = parse_double(s);
        if (!v) fail("corrupt pickle (FLOAT '" + s.substr(0, 40) + "')");
        push(real(*v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        need(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(d_[pos_ + i]);
        pos_ += 8;
        double x;
        std::memcpy(&x, &u, 8);
        push(real(x));
        break;
      }
      case 'X': push(string(bytes(le(4)))); break;     // BINUNICODE
      case 0x8c: push(string(bytes(le(1)))); break;    // SHORT_BINUNICODE
      case 0x8d: push(string(bytes(le(8)))); break;    // BINUNICODE8
      case 'V': push(string(line())); break;           // UNICODE (raw-unicode-escape; ASCII in practice)
      case 'T': push(string(bytes(le(4)))); break;     // BINSTRING
      case 'U': push(string(bytes(le(1)))); break;     // SHORT_BINSTRING
      case 'S': {                                      // STRING: quoted repr
        std::string s = line();
        if (s.size() >= 2 && (s[0] == '\'' || s[0] == '"')) s = s.substr(1, s.size() - 2);
        push(string(s));
        break;
      }
      case 'B': push(string(bytes(le(4)), Value::Kind::Bytes)); break;   // BINBYTES
      case 'C': push(string(bytes(le(1)), Value::Kind::Bytes)); break;   // SHORT_BINBYTES
      case 0x8e: push(string(bytes(le(8)), Value::Kind::Bytes)); break;  // BINBYTES8
      case 0x96: push(string(bytes(le(8)), Value::Kind::Bytes)); break;  // BYTEARRAY8
      case ')': push(tuple({})); break;
      case 0x85: push(tuple({pop()})); break;
      case 0x86: {
        auto b = pop(), a = pop();
        push(tuple({a, b}));
        break;
      }
      case 0x87: {
        auto c = pop(), b = pop(), a = pop();
        push(tuple({a, b, c}));
        break;
      }
      case 't': push(tuple(pop_mark())); break;
      case ']': push(make(Value::Kind::List)); break;
      case 'l': {
        auto v = make(Value::Kind::List);
        v->items = pop_mark();
        push(v);
        break;
      }
      case '}': push(make(Value::Kind::Dict)); break;
      case 'd': {
        auto items = pop_mark();
        if (items.size() % 2) fail("corrupt pickle (odd DICT items)");
        auto v = make(Value::Kind::Dict);
        for (size_t i = 0; i < items.size(); i += 2) v->entries.emplace_back(items[i], items[i + 1]);
        push(v);
        break;
      }
      case 0x8f: push(make(Value::Kind::List)); break;  // EMPTY_SET (kept as a list)
      case 0x90: {                                      // ADDITEMS
        auto items = pop_mark();
        for (auto& i : items) append(*top(), i);
        break;
      }
      case 0x91: {  // FROZENSET
        auto v = make(Value::Kind::List);
        v->items = pop_mark();
        push(v);
        break;
      }
      case 'a': {
        auto v = pop();
        append(*top(), v);
        break;
      }
      case 'e': {
        auto items = pop_mark();
        for (auto& i : items) append(*top(), i);
        break;
      }
      case 's': {
        auto v = pop(), k = pop();
        add_to_dict(*top(), k, v);
        break;
      }
      case 'u': {
        auto items = pop_mark();
        if (items.size() % 2) fail("corrupt pickle (odd SETITEMS)");
        for (size_t i = 0; i < items.size(); i += 2) add_to_dict(*top(), items[i], items[i + 1]);
        break;
      }
      case 'p':
        memo_[text_int(line())] = top();
        break;
      case 'q': memo_[static_cast<int64_t>(le(1))] = top(); break;
      case 'r': memo_[static_cast<int64_t>(le(4))] = top(); break;
      case 0x94: memo_[static_cast<int64_t>(memo_.size())] = top(); break;  // MEMOIZE
      case 'g':
        push(memo(text_int(line())));
        break;
      case 'h': push(memo(static_cast<int64_t>(le(1)))); break;
      case 'j': push(memo(static_cast<int64_t>(le(4)))); break;
      case 'c': {  // GLOBAL "module\nname\n"
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = pop(), module = pop();
        if (!module->is_string() || !name->is_string()) fail("corrupt pickle (STACK_GLOBAL without strings)");
        push(global(module->text, name->text));
        break;
      }
      case 'R': {
        auto args = pop(), fn = pop();
        push(call(*fn, *args));
        break;
      }
      case 0x81: {  // NEWOBJ cls(*args): only for allowed types, which are plain containers
        auto args = pop(), cls = pop();
        if (cls->kind != Value::Kind::Global || cls->module + "." + cls->name != "collections.OrderedDict")
          fail("refusing NEWOBJ of " + cls->describe());
        push(make(Value::Kind::Dict));
        break;
      }
      case 'b': {  // BUILD: an ndarray's contents; state of an OrderedDict (_metadata) or dtype is not needed
        auto state = pop();
        Value& obj = *top();
        if (obj.kind == Value::Kind::NDArray) {
          build_ndarray(obj, *state);
          break;
        }
        if (obj.kind != Value::Kind::Dict && obj.kind != Value::Kind::DType && obj.kind != Value::Kind::Tensor)
          fail("refusing BUILD on " + obj.describe());
        break;
      }
      case 'Q': {  // BINPERSID
        auto pid = pop();
        if (!persistent_load_) fail("persistent id in a pickle that should have none");
        push(persistent_load_(*pid));
        break;
      }
      case 'P': fail("text persistent ids are not supported");
      case 'i':
      case 'o':
      case 0x92:
        fail("refusing object-construction opcode 0x" + hex(op) + " at offset " + std::to_string(at));
      default:
        fail("unknown or unsupported pickle opcode 0x" + hex(op) + " at offset " + std::to_string(at) +
             " (corrupt file?)");
    }
  }

  static std::string hex(uint8_t op) {
    const char* digits = "0123456789abcdef";
    return std::string{digits[op >> 4], digits[op & 15]};
  }

  ValuePtr memo(int64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail("corrupt pickle (memo key " + std::to_string(k) + " missing)");
    return it->second;
  }

  const std::string& d_;
  size_t pos_;
  const PersistentLoad& persistent_load_;
  const std::string& what_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<int64_t, ValuePtr> memo_;
  std::vector<std::weak_ptr<Value>>
      containers_;  // every tuple, list and dict made (check_structure, dismantle)
};

}  // namespace

const Value* Value::get(const std::string& key) const {
  if (kind != Kind::Dict) return nullptr;
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::String && k->text == key) return v.get();
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::String:
      return "str '" + (text.size() > 60 ? text.substr(0, 60) + "..." : text) + "'";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global " + module + "." + name;
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    case Kind::DType: return "numpy dtype";
    case Kind::NDArray: return "numpy array";
  }
  return "?";
}

Unpickled load(const std::string& data, size_t offset, const PersistentLoad& persistent_load, const std::string& what) {
  return Machine(data, offset, persistent_load, what).load();
}

void storage_dtype(const std::string& t, DType& dtype, bool& is_f64, const std::string& what) {
  is_f64 = false;
  if (t == "FloatStorage") dtype = DType::F32;
  else if (t == "DoubleStorage") dtype = DType::F32, is_f64 = true;
  else if (t == "HalfStorage") dtype = DType::F16;
  else if (t == "BFloat16Storage") dtype = DType::BF16;
  else if (t == "LongStorage") dtype = DType::I64;
  else if (t == "IntStorage") dtype = DType::I32;
  else if (t == "ByteStorage" || t == "BoolStorage") dtype = DType::U8;
  else SC_FAIL(what, ": unsupported storage type torch.", t);
}

Tensor materialize(const TensorRef& ref, const std::string& what) {
  const Storage& s = *ref.storage;
  const size_t item = s.is_f64 ? 8 : dtype_size(s.dtype);
  SC_CHECK(s.bytes.size() == static_cast<size_t>(s.numel) * item, what, ": storage ", s.key, " holds ",
           s.bytes.size(), " bytes, expected ", s.numel * static_cast<int64_t>(item), " (truncated file?)");
  // The view must stay inside its storage. It may repeat elements (a zero stride, as expand() makes), but not
  // into more than 2^24 elements beyond its storage's count: a corrupt size must not allocate the machine
  // away.
  const int64_t n = checked_numel(ref.size, what);
  SC_CHECK(n <= std::max<int64_t>(s.numel, int64_t{1} << 24), what, ": tensor view of ", n,
           " elements repeats its storage of ", s.numel, " elements beyond belief (corrupt file?)");
  Tensor out = Tensor::empty(ref.size, s.dtype);
  if (n == 0) return out;
  int64_t hi = ref.offset;
  bool inside = ref.offset >= 0;
  for (size_t d = 0; d < ref.size.size() && inside; ++d) {
    SC_CHECK(ref.stride[d] >= 0, what, ": negative stride in a tensor record");
    int64_t step = 0;
    inside = !__builtin_mul_overflow(ref.size[d] - 1, ref.stride[d], &step) &&
             !__builtin_add_overflow(hi, step, &hi);
  }
  SC_CHECK(inside && hi < s.numel, what, ": tensor view [offset ", ref.offset, ", sizes ",
           shape_str(ref.size), "] outside its storage of ", s.numel, " elements");
  const int64_t nd = static_cast<int64_t>(ref.size.size());
  const size_t es = dtype_size(s.dtype);
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, src = ref.offset;
    for (int64_t d = nd - 1; d >= 0; --d) {
      src += (rem % ref.size[d]) * ref.stride[d];
      rem /= ref.size[d];
    }
    if (s.is_f64) {
      double v;
      std::memcpy(&v, s.bytes.data() + src * 8, 8);
      const float f = static_cast<float>(v);
      std::memcpy(dst + i * 4, &f, 4);
    } else {
      std::memcpy(dst + i * es, s.bytes.data() + src * es, es);
    }
  }
  return out;
}

}  // namespace sc::pickle
