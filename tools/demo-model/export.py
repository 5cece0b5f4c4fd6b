"""Export the trained demo model to the diffusers / optimum ONNX layout (fp32), as a downloaded
SD 1.5 ONNX folder: int32 input_ids, int64 [batch] timestep, vae_encoder -> latent_sample (its mean).

    /usr/bin/python3 tools/demo-model/export.py [--work tools/demo-model/work] [--out resources/models/latent-studio-demo]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import common as C  # noqa: E402
import models as M  # noqa: E402
from make_test_models import (DIFFUSERS_VERSION, SD15_BETAS, export, model_index, text_config_json,  # noqa: E402
                              unet_config_json, write_json)
from testmodels.vocab import SPECIAL_EOS, write_tokenizer  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

# SD 1.5's scheduler keys (clip_sample false, set_alpha_to_one false, skip_prk_steps true) are kept so that a
# switch to DDIM / DDPM / PNDM (which merge this file over their class defaults) behaves as with SD 1.5: DDIM's
# class default clip_sample=True would clip the unit-variance latents to [-1, 1].
SCHEDULER = {"_class_name": "EulerDiscreteScheduler", "_diffusers_version": DIFFUSERS_VERSION, **SD15_BETAS,
             "clip_sample": False, "interpolation_type": "linear", "prediction_type": "epsilon",
             "rescale_betas_zero_snr": False, "set_alpha_to_one": False, "skip_prk_steps": True,
             "steps_offset": 1, "timestep_spacing": "trailing", "timestep_type": "discrete",
             "use_karras_sigmas": False, "final_sigmas_type": "zero"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--unet", default=None, help="checkpoint (default work/unet.pt)")
    ap.add_argument("--out", default=os.path.join(ROOT, "resources", "models", "latent-studio-demo"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = a.out
    tok = Tokenizer()
    enc, dec, scaling = C.load_vae(os.path.join(a.work, "vae.pt"))
    ck = torch.load(a.unet or os.path.join(a.work, "unet.pt"), map_location="cpu")
    text, unet = C.build_text(tok), C.build_unet()
    text.load_state_dict(ck["text"]), unet.load_state_dict(ck["unet"])
    text.eval(), unet.eval()

    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "model_index.json"), model_index("StableDiffusionPipeline", SCHEDULER["_class_name"]))
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SCHEDULER)
    write_tokenizer(os.path.join(out, "tokenizer"), tok.vocab, tok.merges, SPECIAL_EOS)

    ids = torch.tensor([tok.encode("a large red circle on the left on a white background"), tok.encode("")],
                       dtype=torch.int32)
    export(text, (ids,), os.path.join(out, "text_encoder", "model.onnx"), ["input_ids"],
           ["last_hidden_state", "pooler_output"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}}, False)
    write_json(os.path.join(out, "text_encoder", "config.json"), text_config_json(text.cfg, False))

    sample = torch.randn(2, 4, 8, 8)
    t = torch.full((2,), 500, dtype=torch.int64)
    ehs = torch.randn(2, 77, C.TEXT_HIDDEN)
    export(unet, (sample, t, ehs), os.path.join(out, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"],
           ["out_sample"], {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": {0: "steps"},
                            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
                            "out_sample": {0: "batch_size", 2: "height", 3: "width"}}, False)
    write_json(os.path.join(out, "unet", "config.json"), unet_config_json(unet.cfg, 8, False, {}))

    enc_mode = M.LightVaeEncoder(mode_only=True)
    enc_mode.load_state_dict(enc.state_dict())
    img = torch.rand(1, 3, 64, 64) * 2 - 1
    export(enc_mode, (img,), os.path.join(out, "vae_encoder", "model.onnx"), ["sample"], ["latent_sample"],
           {"sample": {0: "batch_size", 2: "height", 3: "width"},
            "latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"}}, False)
    lat = torch.randn(1, 4, 8, 8)
    export(dec, (lat,), os.path.join(out, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"},
            "sample": {0: "batch_size", 2: "height", 3: "width"}}, False)
    vae_cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": DIFFUSERS_VERSION, "act_fn": "silu",
               "block_out_channels": [16, 32, 64], "in_channels": 3, "latent_channels": 4, "out_channels": 3,
               "sample_size": 64, "scaling_factor": scaling,
               "_note": "Latent Studio demo VAE: plain conv encoder/decoder (tools/demo-model/models.py), not the "
                        "diffusers AutoencoderKL block layout; only the ONNX I/O contract matches."}
    for sub in ("vae_encoder", "vae_decoder"):
        write_json(os.path.join(out, sub, "config.json"), vae_cfg)
    total = 0
    for d, _, files in os.walk(out):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
    print(f"exported to {out}: {total / 1e6:.2f} MB, scaling_factor {scaling}, unet step {ck['step']}")


if __name__ == "__main__":
    main()
