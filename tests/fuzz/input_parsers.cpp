#include "fuzz/input_parsers.h"

#include "diffusion/denoiser.h"
#include "io/idx.h"
#include "io/image.h"
#include "io/json.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "nn/error.h"
#include "nn/models/model_file.h"
#include "nn/state_dict.h"
#include "weights_tools/pickle.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc::test {

namespace {
const std::string kWhat = "'input'";

void parse_checkpoint(const std::string& bytes) {
  torchfile::Checkpoint c = torchfile::parse_checkpoint(bytes, kWhat);
  torchfile::root_string(c, "arch");
  torchfile::extract_state_dict(c);  // materializes every tensor of the state dict
}

// A model file as `load_model` reads it: the spec from the metadata, the architecture, then the weights.
void parse_model_file(const std::string& bytes) {
  const io::Safetensors st = io::parse_safetensors(bytes, kWhat);
  auto model = build_model(spec_from_metadata(st.metadata, kWhat));
  load_state_dict(*model, st.tensors, kWhat);
}

// A diffusion model file as `load_diffusion_model` reads it: flags, a UNet no larger than the file, weights.
void parse_diffusion_model_file(const std::string& bytes) {
  diffusion_model_from_safetensors(io::parse_safetensors(bytes, kWhat), kWhat);
}
}  // namespace

const std::vector<InputParser>& input_parsers() {
  static const std::vector<InputParser> parsers = {
      {"checkpoint", parse_checkpoint},
      {"pickle", [](const std::string& b) { pickle::load(b, 0, nullptr, kWhat); }},
      {"safetensors", [](const std::string& b) { io::parse_safetensors(b, kWhat); }},
      {"model", parse_model_file},
      {"diffusion_model", parse_diffusion_model_file},
      {"npy", [](const std::string& b) { io::parse_npy(b, kWhat); }},
      {"json", [](const std::string& b) { json::parse(b, kWhat); }},
      {"idx", [](const std::string& b) { io::parse_idx(b, kWhat); }},
      {"image", [](const std::string& b) { io::decode_image(b, kWhat); }},
  };
  return parsers;
}

const InputParser& input_parser(const std::string& name) {
  for (const InputParser& p : input_parsers())
    if (name == p.name) return p;
  std::string known;
  for (const InputParser& p : input_parsers()) known += std::string(known.empty() ? "" : ", ") + p.name;
  SC_FAIL("no input parser '", name, "' (known: ", known, ")");
}

}  // namespace sc::test
