"""The demo model's networks: the text encoder and UNet are the project's plain-torch SD networks
(tools/testmodels/nets.py: CLIP text model, UNet2DConditionModel in miniature; sizes in common.py); the VAE
is a light conv autoencoder defined here."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testmodels.nets import (  # noqa: E402,F401
    ClipTextModel, TextConfig, UNet, UNetConfig, VaeConfig, VaeDecoder, VaeEncoder, param_count)


# ----------------------------------------------------------------------------- a light VAE (8x, 4 latent channels)
# The SD AutoencoderKL in miniature (nets.py) spends most of its time in GroupNorm + ResNet blocks at full
# resolution; flat-coloured shapes need far less, so the demo VAE is plain strided / upsampling convs
# with residual blocks only at 16x16 and 8x8. Same I/O contract as AutoencoderKL.

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


class Res(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class LightVaeEncoder(nn.Module):
    """sample [B,3,H,W] in [-1,1] -> mean||logvar [B,8,H/8,W/8] (or the mean alone when mode_only)."""

    def __init__(self, ch=(16, 32, 64), latent: int = 4, mode_only: bool = False):
        super().__init__()
        self.latent, self.mode_only = latent, mode_only
        self.net = nn.Sequential(
            nn.Conv2d(3, ch[0], 3, padding=1), nn.SiLU(),
            nn.Conv2d(ch[0], ch[0], 4, stride=2, padding=1), nn.SiLU(),   # 32
            nn.Conv2d(ch[0], ch[1], 4, stride=2, padding=1), Res(ch[1]),   # 16
            nn.SiLU(), nn.Conv2d(ch[1], ch[2], 4, stride=2, padding=1), Res(ch[2]),  # 8
            nn.SiLU(), nn.Conv2d(ch[2], 2 * latent, 3, padding=1))

    def forward(self, sample):
        p = self.net(sample)
        return p[:, : self.latent] if self.mode_only else p


class LightVaeDecoder(nn.Module):
    """latent_sample [B,4,h,w] -> sample [B,3,8h,8w] (about [-1,1])."""

    def __init__(self, ch=(96, 48, 24, 16), latent: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(latent, ch[0], 3, padding=1), Res(ch[0]), Res(ch[0]),            # 8
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(ch[0], ch[1], 3, padding=1), Res(ch[1]),  # 16
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(ch[1], ch[2], 3, padding=1), nn.SiLU(),  # 32
            nn.Conv2d(ch[2], ch[2], 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(ch[2], ch[3], 3, padding=1), nn.SiLU(),  # 64
            nn.Conv2d(ch[3], 3, 3, padding=1))

    def forward(self, latent_sample):
        return self.net(latent_sample)
