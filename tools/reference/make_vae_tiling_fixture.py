#!/usr/bin/env python3
"""Regenerates tests/fixtures/vae-tiling/: what diffusers' own AutoencoderKL.tiled_decode and _tiled_encode
(with blend_v / blend_h) make of a fixed input when the decoder and encoder are replaced by simple exact
functions that the TypeScript test computes the same way. It checks the tiling itself (tile positions,
blending, cropping, placement) against diffusers' code, not a VAE.

The methods are taken from diffusers' source file as it is (parsed with ast and run on a small stand-in
object), so nothing of diffusers is re-typed here. Usage, with Debian's python3 (torch):

    /usr/bin/python3 tools/reference/make_vae_tiling_fixture.py PATH/TO/diffusers/src/diffusers/models/autoencoders/autoencoder_kl.py

Stand-ins (tile-local coordinates y, x; both exact in float32):
    decoder(z)[c, y, x] = z[c % 4, y // 8, x // 8] + ((y + 2x) % 17) / 16 + c / 4          (3 channels)
    encoder(p)[k, y, x] = p[k % 3, 8y, 8x] + ((y + 2x + k) % 17) / 16                       (8 channels)
Inputs: latents [1, 4, 11, 17] and pixels [1, 3, 88, 136] with value ((c·7 + y·3 + x·5) % 23) / 8 − 1;
sample_size 64 (tiny-sd15's VAE): latent tiles of 8, so both runs use 2 × 3 tiles.
"""
import ast
import json
import os
import sys
import types

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "vae-tiling")
METHODS = ("blend_v", "blend_h", "tiled_decode", "_tiled_encode")


def load_methods(source_path):
    tree = ast.parse(open(source_path).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AutoencoderKL")
    found = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name in METHODS:
            node.decorator_list = []
            module = ast.Module(body=[node], type_ignores=[])
            scope = {"torch": torch, "DecoderOutput": None, "AutoencoderKLOutput": None}
            exec(compile(module, source_path, "exec"), scope)
            found[node.name] = scope[node.name]
    missing = set(METHODS) - set(found)
    if missing:
        sys.exit(f"not found in {source_path}: {sorted(missing)}")
    return found


def pattern(c, h, w):
    cc, yy, xx = torch.meshgrid(torch.arange(c), torch.arange(h), torch.arange(w), indexing="ij")
    return (((cc * 7 + yy * 3 + xx * 5) % 23).float() / 8 - 1).unsqueeze(0)


def fake_decoder(z):
    _, _, h, w = z.shape
    up = z.repeat_interleave(8, 2).repeat_interleave(8, 3)
    yy, xx = torch.meshgrid(torch.arange(8 * h), torch.arange(8 * w), indexing="ij")
    pos = ((yy + 2 * xx) % 17).float() / 16
    return torch.stack([up[:, c % 4] + pos + c / 4 for c in range(3)], dim=1)


def fake_encoder(p):
    _, _, h, w = p.shape
    sub = p[:, :, ::8, ::8]
    yy, xx = torch.meshgrid(torch.arange(h // 8), torch.arange(w // 8), indexing="ij")
    return torch.stack([sub[:, k % 3] + ((yy + 2 * xx + k) % 17).float() / 16 for k in range(8)], dim=1)


def main():
    m = load_methods(sys.argv[1])
    vae = types.SimpleNamespace(
        tile_sample_min_size=64,
        tile_latent_min_size=8,
        tile_overlap_factor=0.25,
        config=types.SimpleNamespace(use_post_quant_conv=False, use_quant_conv=False),
        decoder=fake_decoder,
        encoder=fake_encoder,
        quant_conv=None,
        post_quant_conv=None,
    )
    for name in ("blend_v", "blend_h"):
        setattr(vae, name, types.MethodType(m[name], vae))
    with torch.no_grad():
        decoded = m["tiled_decode"](vae, pattern(4, 11, 17), return_dict=False)[0]
        moments = m["_tiled_encode"](vae, pattern(3, 88, 136))
    os.makedirs(OUT, exist_ok=True)
    decoded.numpy().astype("<f4").tofile(os.path.join(OUT, "decoded-1x3x88x136.f32"))
    moments.numpy().astype("<f4").tofile(os.path.join(OUT, "moments-1x8x11x17.f32"))
    json.dump({"decoded": list(decoded.shape), "moments": list(moments.shape), "torch": torch.__version__}, open(os.path.join(OUT, "shapes.json"), "w"))
    print("decoded", tuple(decoded.shape), "moments", tuple(moments.shape))


if __name__ == "__main__":
    main()
