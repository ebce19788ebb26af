#include "weights_tools/convert.h"

#include "io/dataset_presets.h"
#include "io/file_util.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "nn/models/denoisers.h"
#include "nn/models/model_file.h"
#include "nn/state_dict.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc {

namespace {

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// Removes the wrapper prefix every key shares ("1.module.", "module.", "1.", "model.", "net.").
std::string strip_prefix(StateDict& sd) {
  for (const char* p : {"1.module.", "module.", "1.", "model.", "net."}) {
    const std::string prefix(p);
    bool all = !sd.empty();
    for (const auto& [k, t] : sd) all = all && k.rfind(prefix, 0) == 0;
    if (all) {
      for (auto& [k, t] : sd) k = k.substr(prefix.size());
      return prefix;
    }
  }
  return "";
}

}  // namespace

ModelSpec make_spec(const std::string& arch, const ConvertOptions& o, const std::string& what) {
  ModelSpec s;
  s.arch = arch;
  std::string dataset = o.dataset;
  if (dataset.empty()) {  // architectures that imply their dataset
    if (arch.rfind("cifar_", 0) == 0 || arch.rfind("aka_", 0) == 0 || arch.rfind("wrn", 0) == 0) dataset = "cifar10";
    if (arch == "resnet50" || arch == "resnet18") dataset = "imagenet";
    if (arch.rfind("prood_", 0) == 0) dataset = "cifar10";
    if (arch == "imagenet_dncnn" || arch == "imagenet_memnet") dataset = "imagenet";
  }
  if (!dataset.empty()) {
    const io::DatasetPreset* p = io::dataset_preset(dataset);
    SC_CHECK(p, what, ": unknown --dataset '", dataset,
             "' (known: cifar10, cifar100, imagenet, mnist, fashion-mnist; or give --mean/--std and --input-shape)");
    s.channels = p->channels, s.height = p->height, s.width = p->width, s.num_classes = p->num_classes;
    s.mean = p->mean, s.std = p->std;
  }
  // akamaster's CIFAR ResNets were trained with ImageNet's normalization constants.
  if (arch.rfind("aka_", 0) == 0) s.mean = io::kImageNetMean, s.std = io::kImageNetStd;
  // ProoD's CNNs take the [0, 1] images as they are.
  if (arch.rfind("prood_", 0) == 0) s.mean.clear(), s.std.clear();
  if (!o.mean.empty() || !o.std.empty()) {
    SC_CHECK(o.mean.size() == o.std.size(), what, ": --mean and --std need the same number of values");
    s.mean = o.mean, s.std = o.std;
  }
  if (o.num_classes > 0) s.num_classes = o.num_classes;
  if (is_denoiser_arch(arch)) {  // images in, images out: no classes, no normalization
    SC_CHECK(
        o.mean.empty() && o.std.empty() && o.num_classes <= 0, what, ": '", arch,
        "' is a denoiser: it takes the [0, 1] images as they are and has no classes (drop --mean, --std and "
        "--num-classes)");
    s.num_classes = 0, s.mean.clear(), s.std.clear();
  }
  if (!o.input_shape.empty()) {
    SC_CHECK(o.input_shape.size() == 3, what, ": --input-shape must be C,H,W");
    s.channels = o.input_shape[0], s.height = o.input_shape[1], s.width = o.input_shape[2];
  }
  s.flags = o.flags;
  SC_CHECK(!dataset.empty() || !o.input_shape.empty(), what, ": give --dataset or --input-shape for arch '", arch,
           "'");
  return s;
}

bool is_torch_checkpoint_path(const std::string& p) {
  for (const char* ext : {".pt", ".pth", ".pth.tar", ".th", ".ckpt", ".tar", ".bin"})
    if (ends_with(p, ext)) return true;
  return false;
}

namespace {
// A checkpoint's state dict, where it sat ("" = the top level), its format and its own arch ("" = none).
struct SourceWeights {
  StateDict state;
  std::string where, format, arch;
};

// PyTorch's torch.save files (zip or legacy), or a plain safetensors state dict (Hugging Face's and timm's
// model.safetensors: tensors under their keys, any metadata; an "arch" entry names the architecture).
SourceWeights read_source_weights(const std::string& path, const std::string& bytes,
                                  const std::string& what) {
  SourceWeights w;
  if (ends_with(path, ".safetensors")) {
    io::Safetensors st = io::parse_safetensors(bytes, what);
    SC_CHECK(!st.metadata.contains("input_shape") || !st.metadata.contains("num_classes"), what,
             " is already a smoothcuda model file: use it as it is");
    w.state = std::move(st.tensors);
    w.format = "safetensors";
    if (auto it = st.metadata.find("arch"); it != st.metadata.end()) w.arch = it->second;
    return w;
  }
  torchfile::Checkpoint ckpt = torchfile::parse_checkpoint(bytes, what);
  ckpt.path = path;
  w.arch = torchfile::root_string(ckpt, "arch");
  w.state = torchfile::extract_state_dict(ckpt, &w.where);
  w.format = ckpt.format;
  return w;
}
}  // namespace

void apply_checkpoint_conventions(ModelSpec& s, const ConvertOptions& o) {
  if ((s.arch == "vit" || s.arch == "beit") && o.mean.empty())
    s.mean.assign(s.channels, 0.5f), s.std.assign(s.channels, 0.5f);
  if (s.arch == "vit" && o.input_shape.empty()) s.height = s.width = 224;
}

ConvertedModel convert_checkpoint(const std::string& path, const ConvertOptions& o) {
  const std::string what = "'" + path + "'";
  const std::string bytes = io::read_file(path);
  SourceWeights source = read_source_weights(path, bytes, what);
  std::string arch = o.arch;
  if (arch.empty()) arch = source.arch;
  SC_CHECK(!arch.empty(), what, ": the checkpoint does not name its architecture; give --arch (known: ",
           [] {
             std::string s;
             for (const auto& a : model_archs()) s += (s.empty() ? "" : ", ") + a;
             return s;
           }(),
           ")");
  StateDict& sd = source.state;
  const std::string prefix = strip_prefix(sd);
  // BEiT's relative position indices are a function of the patch grid (kernels/relative_position.h), computed
  // rather than stored; checkpoints saved before timm made them non-persistent still hold them.
  if (arch == "beit")
    std::erase_if(sd, [](const auto& kv) { return ends_with(kv.first, ".relative_position_index"); });
  ConvertedModel out;
  ModelSpec spec = make_spec(arch, o, what);
  apply_checkpoint_conventions(spec, o);
  out.model = build_model(spec);
  load_state_dict(*out.model, sd, what);
  out.metadata = spec_to_metadata(out.model->spec);
  out.metadata["source_file"] = path.substr(path.find_last_of('/') + 1);
  out.metadata["source_sha256"] = io::sha256_hex(bytes);
  out.metadata["source_format"] = source.format;
  out.metadata["source_key_prefix"] = prefix;
  out.metadata["source_state_dict"] = source.where.empty() ? "(top level)" : source.where;
  return out;
}

void write_converted(const std::string& path, ConvertedModel& c) {
  io::write_safetensors(path, state_dict(*c.model), c.metadata);
}

std::unique_ptr<Classifier> load_any_model(const std::string& path, Device device, const ConvertOptions& o) {
  if (!is_torch_checkpoint_path(path)) return load_model(path, device);
  ConvertedModel c = convert_checkpoint(path, o);
  c.model->to(device);
  return std::move(c.model);
}

}  // namespace sc
