"""SDXL-shaped networks for the tiny test models, on top of nets.py's plain-torch SD networks.

What SDXL adds to the SD 1.x/2.x shapes (diffusers UNet2DConditionModel with addition_embed_type
"text_time"; transformers CLIPTextModel / CLIPTextModelWithProjection exported by optimum with
output_hidden_states=True):

- Text encoders that also return every layer's hidden states (the embeddings, then each layer's output,
  before the final layer norm), as optimum's outputs `hidden_states.0` ... `hidden_states.{layers}`.
  The second encoder returns `text_embeds` (text_projection of the pooled end-of-text state) first.
- A UNet whose time embedding gets `add_embedding(concat(text_embeds, sinusoid(time_ids).flatten()))`
  added (diffusers `get_aug_embed`, "text_time"): two extra inputs `text_embeds` [B, proj] and
  `time_ids` [B, 6].
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .nets import ClipTextModel, TextConfig, Transformer2D, UNet, UNetConfig, upsample_to


class ClipTextWithHiddenStates(ClipTextModel):
    """CLIPTextModel (projection_dim None) or CLIPTextModelWithProjection, with all hidden states out.

    Outputs, in optimum's order: without projection (last_hidden_state, pooler_output, hidden_states.0..L);
    with projection (text_embeds, last_hidden_state, hidden_states.0..L).
    """

    def __init__(self, cfg: TextConfig, projection_dim: Optional[int] = None):
        super().__init__(cfg)
        self.text_projection = nn.Linear(cfg.hidden_size, projection_dim, bias=False) if projection_dim else None

    def forward(self, input_ids: torch.Tensor):
        ids = input_ids.long()
        s = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding(self.positions[:s])[None]
        mask = self.causal_mask[:s, :s][None, None]
        hidden = [x]
        for layer in self.layers:
            x = layer(x, mask)
            hidden.append(x)
        last = self.final_layer_norm(x)
        eos = ids.float().argmax(dim=-1)
        onehot = (self.positions[:s][None, :] == eos[:, None]).to(last.dtype)
        pooled = (last * onehot[:, :, None]).sum(dim=1)
        if self.text_projection is not None:
            return (self.text_projection(pooled), last, *hidden)
        return (last, pooled, *hidden)

    def output_names(self):
        n = len(self.layers) + 1
        head = ["text_embeds", "last_hidden_state"] if self.text_projection is not None else ["last_hidden_state", "pooler_output"]
        return head + [f"hidden_states.{i}" for i in range(n)]


def sinusoid(t: torch.Tensor, dim: int) -> torch.Tensor:
    """diffusers Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0) on a flat tensor."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32) / half
    args = t.to(torch.float32)[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class SdxlUNet(UNet):
    """UNet + the "text_time" added embedding: inputs sample, timestep, encoder_hidden_states, text_embeds, time_ids."""

    def __init__(self, cfg: UNetConfig, pooled_dim: int, time_embed_dim: int, time_ids: int = 6):
        super().__init__(cfg)
        temb = cfg.block_out_channels[0] * 4
        self.time_embed_dim = time_embed_dim
        self.add_linear_1 = nn.Linear(pooled_dim + time_ids * time_embed_dim, temb)
        self.add_linear_2 = nn.Linear(temb, temb)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        b = sample.shape[0]
        time_embeds = sinusoid(time_ids.reshape(-1), self.time_embed_dim).reshape(b, -1)
        add = torch.cat([text_embeds, time_embeds.to(text_embeds.dtype)], dim=-1)
        aug = self.add_linear_2(F.silu(self.add_linear_1(add)))
        return self.forward_with_extra_embedding(sample, timestep, encoder_hidden_states, aug)

    def forward_with_extra_embedding(self, sample, timestep, encoder_hidden_states, aug):
        # The parent's forward with `temb + aug` (diffusers: emb = emb + aug_emb before the resnets).
        b = sample.shape[0]
        emb = self.time_embedding(timestep, b, sample.dtype)
        temb = self.time_linear_2(F.silu(self.time_linear_1(emb))) + aug
        ctx = encoder_hidden_states
        x = self.conv_in(sample)
        skips = [x]
        for res, att, down in zip(self.down_res, self.down_attn, self.down_samplers):
            for r, a in zip(res, att):
                x = r(x, temb)
                if isinstance(a, Transformer2D):
                    x = a(x, ctx)
                skips.append(x)
            if isinstance(down, nn.Conv2d):
                x = down(x)
                skips.append(x)
        x = self.mid_res2(self.mid_attn(self.mid_res1(x, temb), ctx), temb)
        for res, att, up in zip(self.up_res, self.up_attn, self.up_samplers):
            for r, a in zip(res, att):
                x = r(torch.cat([x, skips.pop()], dim=1), temb)
                if isinstance(a, Transformer2D):
                    x = a(x, ctx)
            if isinstance(up, nn.Conv2d):
                x = up(upsample_to(x, skips[-1]))
        return self.conv_out(F.silu(self.conv_norm_out(x)))
