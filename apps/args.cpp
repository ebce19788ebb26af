#include "apps/args.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "nn/error.h"
#include "nn/parse_number.h"

namespace sc::app {

Args& Args::positional(const std::string& name, const std::string& help) {
  positionals_.push_back({name, help, "", false});
  return *this;
}

Args& Args::repeated_positional(const std::string& name, const std::string& help) {
  positional(name, help);
  last_repeats_ = true;
  return *this;
}

Args& Args::option(const std::string& name, const std::string& fallback, const std::string& help) {
  options_.push_back({name, help, fallback, false});
  values_[name] = fallback;
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help) {
  options_.push_back({name, help, "", true});
  return *this;
}

Args& Args::allow_extra_options(const std::string& help) {
  extra_help_ = help;
  return *this;
}

bool Args::parse(int argc, char** argv, int first) {
  size_t next_positional = 0;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage().c_str(), stdout);
      return false;
    }
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string name = a.substr(2), value;
      const size_t eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const Spec* spec = nullptr;
      for (const auto& o : options_)
        if (o.name == name) spec = &o;
      if (!spec && !extra_help_.empty()) {
        if (!inline_value) {
          SC_CHECK(i + 1 < argc, command_, ": --", name, " needs a value");
          value = argv[++i];
        }
        extra_[name] = value;
        continue;
      }
      SC_CHECK(spec, command_, ": unknown option --", name, " (see smoothcuda ", command_, " --help)");
      if (spec->is_flag) {
        SC_CHECK(!inline_value, command_, ": --", name, " takes no value");
        values_[name] = "1";
        continue;
      }
      if (!inline_value) {
        SC_CHECK(i + 1 < argc, command_, ": --", name, " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
      continue;
    }
    if (last_repeats_ && next_positional == positionals_.size()) {
      repeated_.push_back(a);
      continue;
    }
    SC_CHECK(next_positional < positionals_.size(), command_, ": unexpected argument '", a, "'");
    values_[positionals_[next_positional++].name] = a;
    if (last_repeats_ && next_positional == positionals_.size()) repeated_.push_back(a);
  }
  SC_CHECK(next_positional == positionals_.size(), command_, ": missing argument ",
           positionals_[next_positional].name, "\n", usage());
  return true;
}

const std::string& Args::get(const std::string& name) const {
  auto it = values_.find(name);
  SC_CHECK(it != values_.end(), "internal: argument ", name, " was not declared");
  return it->second;
}

const std::vector<std::string>& Args::get_all(const std::string& name) const {
  SC_CHECK(last_repeats_ && !positionals_.empty() && positionals_.back().name == name, "internal: argument ",
           name, " is not a repeated positional");
  return repeated_;
}

bool Args::has_flag(const std::string& name) const { return values_.count(name) && values_.at(name) == "1"; }

int64_t Args::get_int(const std::string& name, int64_t lo, int64_t hi) const {
  const std::string& v = get(name);
  const auto x = parse_int64(v);
  SC_CHECK(x, command_, ": ", name, " must be an integer, got '", v, "'");
  SC_CHECK(*x >= lo && *x <= hi, command_, ": ", name, " must be in [", lo, ", ", hi, "], got ", *x);
  return *x;
}

double Args::get_double(const std::string& name, double lo, double hi) const {
  const std::string& v = get(name);
  const auto x = parse_double(v);
  SC_CHECK(x && std::isfinite(*x), command_, ": ", name, " must be a number, got '", v, "'");
  SC_CHECK(*x >= lo && *x <= hi, command_, ": ", name, " must be in [", lo, ", ", hi, "], got ", v);
  return *x;
}

double Args::get_fraction(const std::string& name, double lo, double hi) const {
  const std::string& v = get(name);
  const size_t slash = v.find('/');
  const auto num = parse_double(v.substr(0, slash));
  const auto den =
      slash == std::string::npos ? std::optional<double>(1.0) : parse_double(v.substr(slash + 1));
  SC_CHECK(num && den && *den != 0 && std::isfinite(*num / *den), command_, ": ", name,
           " must be a number or a fraction like 8/255, got '", v, "'");
  const double x = *num / *den;
  SC_CHECK(x >= lo && x <= hi, command_, ": ", name, " must be in [", lo, ", ", hi, "], got ", v);
  return x;
}

std::string Args::usage() const {
  std::ostringstream os;
  os << "usage: smoothcuda " << command_;
  for (const auto& p : positionals_) os << ' ' << p.name;
  if (last_repeats_) os << "...";
  os << " [options]\n\n" << summary_ << "\n\n";
  for (const auto& p : positionals_) os << "  " << p.name << "\n      " << p.help << "\n";
  for (const auto& o : options_) {
    os << "  --" << o.name << (o.is_flag ? "" : " VALUE");
    if (!o.is_flag && !o.fallback.empty()) os << "  (default " << o.fallback << ")";
    os << "\n      " << o.help << "\n";
  }
  if (!extra_help_.empty()) os << "  --NAME VALUE\n      " << extra_help_ << "\n";
  return os.str();
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace sc::app
