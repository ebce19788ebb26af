#include "nn/models/model_file.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "io/safetensors.h"
#include "nn/models/denoisers.h"
#include "nn/parse_number.h"
#include "nn/state_dict.h"

namespace sc {

namespace {
std::string join_floats(const std::vector<float>& v) {
  std::ostringstream os;
  os.precision(9);
  for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  return os.str();
}

std::vector<double> split_numbers(const std::string& text, const std::string& what) {
  const auto v = parse_double_list(text);
  const bool finite = v && std::all_of(v->begin(), v->end(), [](double x) { return std::isfinite(x); });
  SC_CHECK(finite, what, ": '", text, "' is not a comma-separated list of numbers");
  return *v;
}
}  // namespace

std::map<std::string, std::string> spec_to_metadata(const ModelSpec& s) {
  std::map<std::string, std::string> m;
  m["format"] = "smoothcuda-model-1";
  m["arch"] = s.arch;
  m["num_classes"] = std::to_string(s.num_classes);
  m["input_shape"] = std::to_string(s.channels) + "," + std::to_string(s.height) + "," + std::to_string(s.width);
  if (!s.mean.empty()) {
    m["mean"] = join_floats(s.mean);
    m["std"] = join_floats(s.std);
  }
  for (const auto& [k, v] : s.flags) m["flag." + k] = v;
  return m;
}

ModelSpec spec_from_metadata(const std::map<std::string, std::string>& md, const std::string& source) {
  auto need = [&](const char* key) -> const std::string& {
    auto it = md.find(key);
    SC_CHECK(it != md.end(), source, ": not a smoothcuda model file (metadata has no '", key,
             "'; convert PyTorch checkpoints with `smoothcuda convert`)");
    return it->second;
  };
  ModelSpec s;
  s.arch = need("arch");
  // Whole numbers in ranges no real model leaves (ImageNet-21k has 21,841 classes), checked before anything
  // is built from them.
  auto whole = [&](double v, double hi, const char* key) {
    SC_CHECK(v >= 1 && v <= hi && v == std::floor(v), source, ": ", key, " must be a whole number in [1, ",
             hi, "], got '", md.at(key), "'");
    return static_cast<int64_t>(v);
  };
  const auto classes = split_numbers(need("num_classes"), source + " num_classes");
  SC_CHECK(classes.size() == 1, source, ": bad num_classes");
  if (is_denoiser_arch(s.arch)) {
    SC_CHECK(classes[0] == 0, source, ": num_classes of the denoiser '", s.arch, "' must be 0, got '",
             md.at("num_classes"), "'");
    s.num_classes = 0;
  } else {
    s.num_classes = whole(classes[0], 1 << 20, "num_classes");
  }
  const auto shape = split_numbers(need("input_shape"), source + " input_shape");
  SC_CHECK(shape.size() == 3, source, ": input_shape must be C,H,W");
  s.channels = whole(shape[0], 64, "input_shape");
  s.height = whole(shape[1], 1 << 14, "input_shape");
  s.width = whole(shape[2], 1 << 14, "input_shape");
  if (md.count("mean")) {
    for (double v : split_numbers(md.at("mean"), source + " mean")) s.mean.push_back(static_cast<float>(v));
    for (double v : split_numbers(need("std"), source + " std")) s.std.push_back(static_cast<float>(v));
    SC_CHECK(s.mean.size() == s.std.size(), source, ": mean and std differ in length");
  }
  for (const auto& [k, v] : md)
    if (k.rfind("flag.", 0) == 0) s.flags[k.substr(5)] = v;
  return s;
}

std::unique_ptr<Classifier> load_model(const std::string& path, Device device) {
  auto model = model_from_safetensors(io::read_safetensors(path), "'" + path + "'");
  model->to(device);
  return model;
}

std::unique_ptr<Classifier> model_from_safetensors(const io::Safetensors& file, const std::string& what) {
  auto model = build_model(spec_from_metadata(file.metadata, what));
  load_state_dict(*model, file.tensors, what);
  return model;
}

void save_model(const std::string& path, Classifier& model, const std::map<std::string, std::string>& extra) {
  auto md = spec_to_metadata(model.spec);
  for (const auto& [k, v] : extra) md[k] = v;
  io::write_safetensors(path, state_dict(model), md);
}

}  // namespace sc
