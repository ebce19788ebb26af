"""The improved- and guided-diffusion UNets (iddpm_unet, adm_unet) in plain PyTorch, for the DDS rows of
bench/certify_throughput.sh.

Written from the architectures' description (openai/improved-diffusion: ResBlocks with timestep embeddings and
scale-shift GroupNorm, legacy-layout multi-head attention, strided-conv downsampling, nearest upsampling;
openai/guided-diffusion adds heads of a fixed width, num_head_channels, and ResBlocks that resample, resblock_updown:
average pooling or nearest upsampling of both paths after the first norm and SiLU) with the reference's state-dict
keys, so that the weights smoothcuda's `bench-certify --save-denoiser` writes load strictly. Only what inference
needs: no dropout, no checkpointing, no class conditioning.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class GroupNorm32(nn.GroupNorm):
    """32 groups; statistics in float32 whatever the input's type (as the reference)."""

    def __init__(self, channels):
        super().__init__(32, channels)

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def timestep_embedding(t, dim, max_period=10000):
    """[cos(t f_i), sin(t f_i)] with f_i = max_period^(-i/half), i < half = dim // 2."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


class ResBlock(nn.Module):
    def __init__(self, ch, emb_ch, out_ch, scale_shift, resample=0):
        super().__init__()
        self.scale_shift = scale_shift
        self.resample = resample  # +1: nearest ×2, −1: 2×2 average pooling (resblock_updown)
        self.in_layers = nn.Sequential(GroupNorm32(ch), nn.SiLU(), nn.Conv2d(ch, out_ch, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_ch, 2 * out_ch if scale_shift else out_ch))
        self.out_layers = nn.Sequential(GroupNorm32(out_ch), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip_connection = nn.Identity() if out_ch == ch else nn.Conv2d(ch, out_ch, 1)

    def resampled(self, x):
        if self.resample > 0:
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.avg_pool2d(x, 2) if self.resample < 0 else x

    def forward(self, x, emb):
        if self.resample:  # norm and SiLU at the old size, the convolution at the new one; x resampled alike
            h = self.in_layers[2](self.resampled(self.in_layers[1](self.in_layers[0](x))))
            x = self.resampled(x)
        else:
            h = self.in_layers(x)
        e = self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        if self.scale_shift:  # norm(h) * (1 + scale) + shift, then SiLU, dropout, conv
            scale, shift = e.chunk(2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[3](self.out_layers[2](self.out_layers[1](h)))
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    """Self-attention over the H·W positions; qkv holds [q|k|v] per head (the legacy layout)."""

    def __init__(self, ch, heads):
        super().__init__()
        self.heads = heads
        self.norm = GroupNorm32(ch)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj_out = nn.Conv1d(ch, ch, 1)

    def forward(self, x, emb=None):
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(flat))
        T = qkv.shape[-1]
        q, k, v = qkv.reshape(b * self.heads, 3 * c // self.heads, T).split(c // self.heads, dim=1)
        # softmax(qᵀk / sqrt(d)) with the scale split over q and k; attention weights in float32.
        scale = 1 / math.sqrt(math.sqrt(c // self.heads))
        w = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        w = torch.softmax(w.float(), dim=-1).type(w.dtype)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, T)
        return (flat + self.proj_out(a)).reshape(b, c, *spatial)


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.op = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x, emb=None):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, emb=None):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class EmbSequential(nn.Sequential):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, (ResBlock, AttentionBlock, Downsample, Upsample)) else layer(x)
        return x


def flag(flags, name, default):
    return flags.get(name, default)


def as_bool(value):
    return str(value) in ("True", "true", "1")


class UNet(nn.Module):
    """iddpm_unet or adm_unet from its flags (image_size, num_channels, num_res_blocks, num_heads, num_heads_upsample,
    attention_resolutions, channel_mult, learn_sigma, use_scale_shift_norm, in_channels; adm_unet also
    num_head_channels and resblock_updown). It runs on any input size its downsamplings divide."""

    def __init__(self, flags):
        super().__init__()
        size = int(flag(flags, "image_size", 32))
        mc = int(flag(flags, "num_channels", 128))
        blocks = int(flag(flags, "num_res_blocks", 3))
        heads = int(flag(flags, "num_heads", 4))
        heads_up = int(flag(flags, "num_heads_upsample", -1))
        heads_up = heads if heads_up == -1 else heads_up
        cin = int(flag(flags, "in_channels", 3))
        scale_shift = as_bool(flag(flags, "use_scale_shift_norm", True))
        cout = 2 * cin if as_bool(flag(flags, "learn_sigma", True)) else cin
        head_channels = int(flag(flags, "num_head_channels", -1))
        updown = as_bool(flag(flags, "resblock_updown", False))
        mult = str(flag(flags, "channel_mult", ""))
        if mult:
            mult = tuple(int(m) for m in mult.split(","))
        else:
            mult = {32: (1, 2, 2, 2), 64: (1, 2, 3, 4), 128: (1, 1, 2, 3, 4), 256: (1, 1, 2, 2, 4, 4)}[size]

        def heads_for(ch, default):  # a fixed head width overrides the head count
            return ch // head_channels if head_channels > 0 else default
        attention_ds = [size // int(r) for r in str(flag(flags, "attention_resolutions", "16,8")).split(",") if r]
        self.mc = mc
        emb = 4 * mc
        self.time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.input_blocks = nn.ModuleList([EmbSequential(nn.Conv2d(cin, mc, 3, padding=1))])
        skips, ch, ds = [mc], mc, 1
        for level, m in enumerate(mult):
            for _ in range(blocks):
                layers = [ResBlock(ch, emb, m * mc, scale_shift)]
                ch = m * mc
                if ds in attention_ds:
                    layers.append(AttentionBlock(ch, heads_for(ch, heads)))
                self.input_blocks.append(EmbSequential(*layers))
                skips.append(ch)
            if level != len(mult) - 1:
                down = ResBlock(ch, emb, ch, scale_shift, -1) if updown else Downsample(ch)
                self.input_blocks.append(EmbSequential(down))
                skips.append(ch)
                ds *= 2
        self.middle_block = EmbSequential(ResBlock(ch, emb, ch, scale_shift), AttentionBlock(ch, heads_for(ch, heads)),
                                          ResBlock(ch, emb, ch, scale_shift))
        self.output_blocks = nn.ModuleList()
        for level, m in list(enumerate(mult))[::-1]:
            for i in range(blocks + 1):
                layers = [ResBlock(ch + skips.pop(), emb, m * mc, scale_shift)]
                ch = m * mc
                if ds in attention_ds:
                    layers.append(AttentionBlock(ch, heads_for(ch, heads_up)))
                if level and i == blocks:
                    layers.append(ResBlock(ch, emb, ch, scale_shift, 1) if updown else Upsample(ch))
                    ds //= 2
                self.output_blocks.append(EmbSequential(*layers))
        self.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(), nn.Conv2d(mc, cout, 3, padding=1))

    def forward(self, x, t):
        emb = self.time_embed(timestep_embedding(t, self.mc))
        hs, h = [], x
        for block in self.input_blocks:
            h = block(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


def cosine_alphas_cumprod(steps, s=0.008):
    """ᾱ_t of the cosine schedule (Nichol & Dhariwal), betas clipped at 0.999, in float64."""
    f = lambda u: math.cos((u / steps + s) / (1 + s) * math.pi / 2) ** 2
    out, prod = [], 1.0
    for i in range(steps):
        prod *= 1 - min(1 - f(i + 1) / f(i), 0.999)
        out.append(prod)
    return out


def linear_alphas_cumprod(steps):
    scale = 1000 / steps
    lo, hi = scale * 0.0001, scale * 0.02
    out, prod = [], 1.0
    for i in range(steps):
        prod *= 1 - (lo + (hi - lo) * i / (steps - 1))
        out.append(prod)
    return out


class OneShotDenoiser(nn.Module):
    """Carlini et al.'s one-shot denoising at noise level sigma (images in [0,1]), in DiffSmooth's convention: t* is
    the first step t ≥ 1 with sqrt((1 − ᾱ_t)/ᾱ_t) ≥ 2σ; x_t = sqrt(ᾱ)(2x − 1); x̂ = clip(x_t/sqrt(ᾱ) − sqrt(1/ᾱ − 1)·ε, −1, 1), returned
    as (x̂ + 1)/2."""

    def __init__(self, unet, flags, sigma):
        super().__init__()
        self.unet = unet
        steps = int(flag(flags, "diffusion_steps", 1000))
        schedule = flag(flags, "noise_schedule", "linear")
        abars = cosine_alphas_cumprod(steps) if schedule == "cosine" else linear_alphas_cumprod(steps)
        self.t = next(i for i in range(1, steps) if math.sqrt((1 - abars[i]) / abars[i]) >= 2 * sigma)
        self.abar = abars[self.t]
        rescale = as_bool(flag(flags, "rescale_timesteps", True))
        self.t_in = self.t * 1000.0 / steps if rescale else float(self.t)
        self.channels = int(flag(flags, "in_channels", 3))

    def forward(self, x):
        sa = math.sqrt(self.abar)
        xt = sa * (2 * x - 1)
        eps = self.unet(xt, torch.full((x.shape[0],), self.t_in, device=x.device))[:, :self.channels]
        x0 = (math.sqrt(1 / self.abar) * xt - math.sqrt(1 / self.abar - 1) * eps).clamp(-1, 1)
        return (x0 + 1) / 2
