"""Shared pieces: the SD 1.5 noise schedule, the demo model's network sizes, checkpoint loading, and an
Euler (EulerDiscreteScheduler, 'trailing' spacing) sampler with classifier-free guidance for the eval."""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models as M  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

T = 1000


def alphas_cumprod() -> torch.Tensor:
    """SD 1.5 'scaled_linear' betas (0.00085 .. 0.012), as diffusers builds them (float32)."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=torch.float32) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


TEXT_HIDDEN = 96


def build_text(tok: Tokenizer) -> M.ClipTextModel:
    cfg = M.TextConfig(vocab_size=len(tok.vocab), hidden_size=TEXT_HIDDEN, intermediate_size=2 * TEXT_HIDDEN,
                       num_hidden_layers=2, num_attention_heads=4, hidden_act="quick_gelu",
                       projection_dim=TEXT_HIDDEN, bos_token_id=tok.bos, eos_token_id=tok.eos, pad_token_id=tok.eos)
    return M.ClipTextModel(cfg)


def unet_cfg() -> M.UNetConfig:
    return M.UNetConfig(in_channels=4, out_channels=4, block_out_channels=(64, 96, 128),
                        cross_attn=(True, True, True), layers_per_block=1, attention_head_dim=4,
                        cross_attention_dim=TEXT_HIDDEN, norm_num_groups=16, timestep_kind="int64[batch]")


def build_unet() -> M.UNet:
    return M.UNet(unet_cfg())


def load_vae(path: str):
    ck = torch.load(path, map_location="cpu")
    enc, dec = M.LightVaeEncoder(), M.LightVaeDecoder()
    enc.load_state_dict(ck["encoder"])
    dec.load_state_dict(ck["decoder"])
    enc.eval(), dec.eval()
    scaling = round(1.0 / ck["latent_std"], 5)
    return enc, dec, scaling


def euler_timesteps(steps: int):
    """diffusers EulerDiscreteScheduler, timestep_spacing='trailing': integer timesteps and sigmas."""
    ac = alphas_cumprod().numpy().astype(np.float64)
    sig_table = ((1 - ac) / ac) ** 0.5
    ts = np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1
    sig = np.interp(ts, np.arange(T), sig_table)
    return ts, np.concatenate([sig, [0.0]]).astype(np.float32)


@torch.no_grad()
def sample(unet, text, tok: Tokenizer, prompts, seeds, steps=20, cfg=7.0, negative="", init_latents=None,
           strength=1.0, mask=None):
    """Euler sampling with CFG. Returns latents (unscaled by the VAE factor: divide before decoding)."""
    n = len(prompts)
    ids = torch.tensor([tok.encode(p) for p in prompts] + [tok.encode(negative)] * n)
    ctx = text(ids)[0]
    ts, sig = euler_timesteps(steps)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    noise = torch.stack([torch.randn(4, 8, 8, generator=g) for g in gens])
    start = 0
    if init_latents is None:
        x = noise * float(sig[0])  # init_noise_sigma = max(sigmas) for 'trailing'
    else:
        init_t = min(int(steps * strength), steps)
        start = steps - init_t
        x = init_latents + noise * float(sig[start])
    for i in range(start, steps):
        s = float(sig[i])
        xin = torch.cat([x, x]) / (s * s + 1) ** 0.5
        eps = unet(xin, torch.full((2 * n,), int(ts[i]), dtype=torch.int64), torch.cat([ctx[:n], ctx[n:]]))
        e_c, e_u = eps[:n], eps[n:]
        e = e_u + cfg * (e_c - e_u)
        x = x + (float(sig[i + 1]) - s) * e
        if mask is not None:
            # legacy latent-blend inpainting: keep the known region, noised to the next sigma
            known = init_latents + noise * float(sig[i + 1])
            x = mask * x + (1 - mask) * known
    return x


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[B,3,H,W] in [-1,1] -> uint8 [B,H,W,3]."""
    return ((img.clamp(-1, 1) + 1) * 127.5).round().permute(0, 2, 3, 1).to(torch.uint8).numpy()
