// smoothcuda convert SRC DST.safetensors: a PyTorch checkpoint to a smoothcuda model file.
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/model_options.h"
#include "diffusion/denoiser.h"

namespace sc::app {

int convert_command(int argc, char** argv) {
  Args args("convert",
            "Converts a PyTorch checkpoint (zip or legacy torch.save; nested state_dict/model/net dicts; module. and "
            "1. prefixes) into a smoothcuda model file: the weights under their own names plus metadata (arch, flags, "
            "normalization, classes, input shape, sha256 of the source).");
  args.positional(
          "SRC",
          "PyTorch checkpoint (.pt, .pth, .pth.tar, .th, .bin) or a state dict in safetensors (Hugging "
          "Face's and timm's model.safetensors)")
      .positional("DST", "output .safetensors");
  add_model_options(args);
  args.allow_extra_options(
      "architecture flag, stored in the model file (e.g. --hidden 256; for --arch iddpm_unet or "
      "adm_unet the reference scripts' flags: --image_size 32 --num_channels 128 --num_res_blocks 3 "
      "--learn_sigma True --diffusion_steps 4000 --noise_schedule cosine ...; for --arch vit "
      "(Hugging Face's ViT), timm_vit or beit (timm's ViT, BEiT): --patch 16 --dim 768 --depth 12 --heads 12 "
      "--mlp 3072, ViT-B/16's; timm_vit and beit also --layer_scale 0|1, beit --abs_pos 0|1)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (is_diffusion_arch(args.get("arch"))) {  // a UNet, with the reference scripts' flags
    convert_diffusion_checkpoint(args.get("SRC"), args.get("DST"), args.get("arch"), args.extra());
    std::printf("converted %s -> %s (%s)\n", args.get("SRC").c_str(), args.get("DST").c_str(), args.get("arch").c_str());
    return 0;
  }
  ConvertOptions o = model_options(args);
  for (const auto& [k, v] : args.extra()) o.flags[k] = v;  // --NAME VALUE beside --arch-flags
  ConvertedModel c = convert_checkpoint(args.get("SRC"), o);
  write_converted(args.get("DST"), c);
  const ModelSpec& s = c.model->spec;
  std::printf("converted %s (%s format, state dict at %s, key prefix '%s')\n  -> %s: %s, %lld classes, input %lldx%lldx%lld, "
              "%lld parameters\n",
              args.get("SRC").c_str(), c.metadata["source_format"].c_str(), c.metadata["source_state_dict"].c_str(),
              c.metadata["source_key_prefix"].c_str(), args.get("DST").c_str(), s.arch.c_str(),
              static_cast<long long>(s.num_classes), static_cast<long long>(s.channels),
              static_cast<long long>(s.height), static_cast<long long>(s.width),
              static_cast<long long>(c.model->parameter_count()));
  return 0;
}

}  // namespace sc::app
