# Sourced by the bench and GPU scripts: the denoisers' flags as their reference code spells them (REFERENCE.md).
# improved-diffusion's 52 M CIFAR-10 model, and guided-diffusion's 552 M 256×256 ImageNet model.
cifar_unet=image_size=32,num_channels=128,num_res_blocks=3,learn_sigma=True,dropout=0.3,diffusion_steps=4000,noise_schedule=cosine
imagenet_unet=image_size=256,num_channels=256,num_res_blocks=2,num_head_channels=64,attention_resolutions=32,16,8
imagenet_unet+=,resblock_updown=True,use_scale_shift_norm=True,learn_sigma=True,diffusion_steps=1000,noise_schedule=linear
