// Command-line arguments for the subcommands: declared positionals and --options, strict parsing (unknown
// options, missing or extra arguments and out-of-range numbers are errors that name the argument).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace sc::app {

class Args {
 public:
  Args(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

  Args& positional(const std::string& name, const std::string& help);
  // The last positional, given one or more times (FILE...): get() is the first value, get_all() every one.
  Args& repeated_positional(const std::string& name, const std::string& help);
  Args& option(const std::string& name, const std::string& fallback, const std::string& help);
  Args& flag(const std::string& name, const std::string& help);
  // Collects undeclared `--name value` pairs (architecture flags) instead of rejecting them.
  Args& allow_extra_options(const std::string& help);
  const std::map<std::string, std::string>& extra() const { return extra_; }

  // Parses argv[first..argc). Returns false when --help was asked for (usage already printed).
  bool parse(int argc, char** argv, int first);

  const std::string& get(const std::string& name) const;
  const std::vector<std::string>& get_all(const std::string& name) const;  // a repeated positional's values
  bool has_flag(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t lo, int64_t hi) const;
  double get_double(const std::string& name, double lo, double hi) const;
  // A number or a fraction A/B ("8/255", the way attack budgets are quoted), in [lo, hi].
  double get_fraction(const std::string& name, double lo, double hi) const;
  std::string usage() const;

 private:
  struct Spec {
    std::string name, help, fallback;
    bool is_flag = false;
  };
  std::string command_, summary_;
  std::vector<Spec> positionals_, options_;
  std::map<std::string, std::string> values_, extra_;
  std::string extra_help_;
  bool last_repeats_ = false;
  std::vector<std::string> repeated_;
};

// "a,b,c" → {"a", "b", "c"}; empty items are kept ("a,,b" → {"a", "", "b"}).
std::vector<std::string> split_commas(const std::string& text);

}  // namespace sc::app
