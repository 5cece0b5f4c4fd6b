#!/usr/bin/python3
"""Builds the tiny random-weight Stable Diffusion test models (tests/models/*), or a full-size one.

Needs Debian's /usr/bin/python3 with torch (1.13; its torch.onnx exporter) and onnx. Tests and CI never
run this script: its output is committed. Every model is an exact optimum-style ONNX folder:

  model_index.json  scheduler/scheduler_config.json
  tokenizer/{vocab.json,merges.txt,tokenizer_config.json,special_tokens_map.json}
  text_encoder/{model.onnx,config.json}  unet/{model.onnx,config.json}
  vae_encoder/{model.onnx,config.json}   vae_decoder/{model.onnx,config.json}

The networks (tools/testmodels/nets.py) are plain-torch versions of CLIPTextModel (causal mask, final layer
norm, last_hidden_state + pooler_output), UNet2DConditionModel (timestep embedding, resnets, cross-attention
transformers, skip connections) and AutoencoderKL (three 2x down stages, 4 latent channels), with tiny
channel counts. Weights are random, seeded: the same run gives the same weights. The tokenizer is a small
CLIP-format BPE vocabulary learned here (tools/testmodels/vocab.py).

Dynamic axes as optimum exports them: batch_size, sequence_length, height, width (any latent size, odd ones
included), so long prompts (k x 77 tokens of encoder_hidden_states) and any image size multiple of 8 work.

Variants (tests/models/<name>/):
  tiny-sd15        fp32; input_ids int32; UNet timestep int64 [batch]; vae_encoder -> latent_sample
                   (4 ch; the mode, so the test models stay deterministic); PNDM as SD 1.5; epsilon.
  tiny-sd15-fp16   tiny-sd15's graphs converted to float16: weights and every float input/output.
  tiny-sd2-v       v_prediction (DDIM as SD 2.1); pad token "!" (id 0); input_ids int64; timestep float32
                   [batch]; vae_encoder -> latent_parameters (8 ch, mean | logvar); text hidden 48 (sd15: 32),
                   gelu, linear projections in the transformers (SD 2.x style).
  tiny-inpaint     9-channel UNet ([latents | mask | masked-image latents]); timestep float32 [batch] (legacy
                   diffusers script); an old-style scheduler config (no timestep_spacing / prediction_type)
                   and VAE configs without scaling_factor (the default 0.18215 applies).
  tiny-lcm         UNet input timestep_cond [batch, 32] (unet/config.json time_cond_proj_dim = 32);
                   LCMScheduler config as LCM-Dreamshaper-v7; vae_encoder -> latent_parameters.
  tiny-turbo       as optimum >= 1.24 exports SD-Turbo: input_ids int64; timestep float32 scalar [];
                   EulerAncestral with trailing spacing; and a UNet exported with a FIXED batch of 1
                   (classifier-free guidance has to run as two calls).
  tiny-sdxl        SDXL base as optimum 1.x exports it (tools/testmodels/sdxl.py): model_index
                   StableDiffusionXLPipeline (force_zeros_for_empty_prompt); text_encoder/ (hidden 32, outputs
                   last_hidden_state, pooler_output, hidden_states.0..2) and text_encoder_2/ (hidden 48, gelu,
                   outputs text_embeds [B,40], last_hidden_state, hidden_states.0..2; tokenizer_2 pads with "!");
                   UNet inputs sample, timestep (int64 [batch]), encoder_hidden_states [B,S,80], text_embeds
                   [B,40], time_ids [B,6] (addition_embed_type "text_time"); VAE scaling_factor 0.13025,
                   latent_parameters; EulerDiscrete leading as SDXL base; int32 ids.
  tiny-sdxl-fp16   tiny-sdxl converted to float16.
  tiny-sdxl-turbo  SDXL-Turbo as optimum >= 1.24: int64 ids, timestep float32 scalar [], EulerAncestral trailing.
  tiny-sdxl-inpaint  SDXL inpainting (StableDiffusionXLInpaintPipeline): a 9-channel UNet, otherwise tiny-sdxl.
  Overlays (not full models; tests lay them over a copy of tiny-sd15; '--only overlays' builds the last three):
  bad-sdxl-like    model_index.json (StableDiffusionXLPipeline), a text_encoder_2/ without hidden-state
                   outputs, tokenizer_2/ and an SDXL-like unet/ (extra inputs text_embeds, time_ids): refused,
                   because SDXL conditions on the penultimate hidden states.
  overlay-vae-fp16-overflow  (over tiny-sdxl-fp16) a float16 vae_decoder whose output overflows float16
                   (x * 60000 * 60000), as SDXL's original VAE does in float16.
  bad-extra-input  unet/ with an input the engine does not know (down_block_additional_residual).
  overlay-unet-batch-2   tiny-sd15's unet (same weights) exported with a fixed batch of 2.
  overlay-external-data  tiny-sd15's unet with every weight in unet/model.onnx_data (external data).

--full writes models-full/sd15-random/ (gitignored; not committed): SD 1.5's shapes with random weights for
benchmarks, costing what the real model costs per step: CLIP text encoder 12 layers x 768 (vocab 49408),
UNet 320/640/1280/1280, 2 layers per block, cross-attention 768, 8 heads, VAE 128/256/512/512: exactly SD 1.5's
parameter counts (text 123,060,480; UNet 859,520,964; VAE encoder 34,163,664, decoder 49,490,199; check with
--full --dry-run). Same I/O as tiny-sd15 (int32 ids, int64 [batch] timestep, latent_sample).
The UNet (~3.4 GB fp32) is saved with its weights in unet/model.onnx_data beside unet/model.onnx. This takes
many minutes of CPU and ~16 GB of RAM.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from testmodels.nets import (  # noqa: E402
    ClipTextModel, TextConfig, UNet, UNetConfig, VaeConfig, VaeDecoder, VaeEncoder, param_count)
from testmodels.onnx_fp16 import convert_to_float16  # noqa: E402
from testmodels.sdxl import ClipTextWithHiddenStates, SdxlUNet  # noqa: E402
from testmodels.vocab import SPECIAL_BOS, SPECIAL_EOS, build_vocab, write_tokenizer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OPSET = 17
DIFFUSERS_VERSION = "0.30.0"

SD15_BETAS = {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
              "trained_betas": None}

SCHEDULERS: Dict[str, Dict[str, Any]] = {
    "pndm-sd15": {"_class_name": "PNDMScheduler", "_diffusers_version": DIFFUSERS_VERSION, **SD15_BETAS,
                  "clip_sample": False, "prediction_type": "epsilon", "set_alpha_to_one": False,
                  "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading"},
    "ddim-sd21-v": {"_class_name": "DDIMScheduler", "_diffusers_version": DIFFUSERS_VERSION, **SD15_BETAS,
                    "clip_sample": False, "prediction_type": "v_prediction", "set_alpha_to_one": False,
                    "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading",
                    "rescale_betas_zero_snr": False, "thresholding": False},
    # An old file (diffusers 0.6): no timestep_spacing, no prediction_type -> class defaults.
    "pndm-old": {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_start": 0.00085,
                 "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
                 "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
                 "clip_sample": False},
    "lcm": {"_class_name": "LCMScheduler", "_diffusers_version": DIFFUSERS_VERSION, **SD15_BETAS,
            "clip_sample": False, "clip_sample_range": 1.0, "dynamic_thresholding_ratio": 0.995,
            "original_inference_steps": 50, "prediction_type": "epsilon", "rescale_betas_zero_snr": False,
            "sample_max_value": 1.0, "set_alpha_to_one": True, "steps_offset": 1, "thresholding": False,
            "timestep_scaling": 10.0, "timestep_spacing": "leading"},
    # stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json
    "euler-sdxl": {"_class_name": "EulerDiscreteScheduler", "_diffusers_version": DIFFUSERS_VERSION, **SD15_BETAS,
                   "clip_sample": False, "interpolation_type": "linear", "prediction_type": "epsilon",
                   "sample_max_value": 1.0, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
                   "timestep_spacing": "leading", "use_karras_sigmas": False},
    "euler-a-turbo": {"_class_name": "EulerAncestralDiscreteScheduler", "_diffusers_version": DIFFUSERS_VERSION,
                      **SD15_BETAS, "prediction_type": "epsilon", "rescale_betas_zero_snr": False,
                      "steps_offset": 1, "timestep_spacing": "trailing"},
}


@dataclass
class Variant:
    name: str
    pipeline: str
    scheduler: str
    seed: int
    ids_dtype: torch.dtype = torch.int32
    pad_token: str = SPECIAL_EOS
    text_hidden: int = 32
    text_act: str = "quick_gelu"
    unet_in: int = 4
    timestep_kind: str = "int64[batch]"
    time_cond_proj_dim: Optional[int] = None
    fixed_batch: Optional[int] = None
    linear_proj: bool = False
    vae_output: str = "latent_sample"
    scaling_factor: Optional[float] = 0.18215
    fp16: bool = False
    notes: str = ""
    extra_unet_config: Dict[str, Any] = field(default_factory=dict)


VARIANTS = [
    Variant("tiny-sd15", "StableDiffusionPipeline", "pndm-sd15", seed=1501,
            notes="SD 1.5 as exported by optimum 1.5-1.22: int32 ids, int64 [batch] timestep, latent_sample."),
    Variant("tiny-sd15-fp16", "StableDiffusionPipeline", "pndm-sd15", seed=1501, fp16=True,
            notes="tiny-sd15 converted to float16 (weights and every float input/output)."),
    Variant("tiny-sd2-v", "StableDiffusionPipeline", "ddim-sd21-v", seed=2101, ids_dtype=torch.int64, pad_token="!",
            text_hidden=48, text_act="gelu", timestep_kind="float[batch]", linear_proj=True,
            vae_output="latent_parameters", notes="SD 2.1-v style: v_prediction, pad '!', int64 ids, float timestep."),
    Variant("tiny-inpaint", "StableDiffusionInpaintPipeline", "pndm-old", seed=1502, unet_in=9,
            timestep_kind="float[batch]", scaling_factor=None,
            notes="SD 1.5 inpainting: 9-channel UNet, legacy float timestep, old configs."),
    Variant("tiny-lcm", "LatentConsistencyModelPipeline", "lcm", seed=1503, time_cond_proj_dim=32,
            vae_output="latent_parameters", notes="LCM: timestep_cond input (time_cond_proj_dim 32)."),
    Variant("tiny-turbo", "StableDiffusionPipeline", "euler-a-turbo", seed=2102, ids_dtype=torch.int64,
            pad_token="!", text_hidden=48, text_act="gelu", timestep_kind="float[]", fixed_batch=1,
            linear_proj=True, vae_output="latent_parameters",
            notes="SD-Turbo as optimum>=1.24: int64 ids, scalar float timestep, UNet with fixed batch 1."),
]


def write_json(path: str, obj: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def export(model: torch.nn.Module, args: tuple, path: str, inputs, outputs, dynamic_axes, fp16: bool,
           external: bool = False, fixed_batch: Optional[int] = None) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, args, tmp_path, input_names=inputs, output_names=outputs,
                              dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
        m = onnx.load(tmp_path)  # also pulls in external tensors, if torch wrote any
        m.producer_name = "latent-studio make_test_models.py"
        m.producer_version = "1"
        if fixed_batch:
            for vi in list(m.graph.input) + list(m.graph.output):
                dims = vi.type.tensor_type.shape.dim
                if len(dims) > 0:
                    dims[0].ClearField("dim_param")
                    dims[0].dim_value = fixed_batch
        if fp16:
            m = convert_to_float16(m)
        else:
            onnx.checker.check_model(m) if not external else None
        for stale in ("model.onnx_data",):
            if os.path.exists(os.path.join(os.path.dirname(path), stale)):
                os.remove(os.path.join(os.path.dirname(path), stale))
        if external:
            onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(path) + "_data", size_threshold=1024)
        else:
            onnx.save_model(m, path)


def text_config_json(cfg: TextConfig, fp16: bool) -> Dict[str, Any]:
    return {
        "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "attention_dropout": 0.0,
        "bos_token_id": cfg.bos_token_id, "eos_token_id": cfg.eos_token_id, "pad_token_id": cfg.pad_token_id,
        "hidden_act": cfg.hidden_act, "hidden_size": cfg.hidden_size, "initializer_range": 0.02,
        "intermediate_size": cfg.intermediate_size, "layer_norm_eps": cfg.layer_norm_eps,
        "max_position_embeddings": cfg.max_position_embeddings, "num_attention_heads": cfg.num_attention_heads,
        "num_hidden_layers": cfg.num_hidden_layers, "projection_dim": cfg.projection_dim,
        "torch_dtype": "float16" if fp16 else "float32", "vocab_size": cfg.vocab_size,
    }


def unet_config_json(cfg: UNetConfig, sample_size: int, fp16: bool, extra: Dict[str, Any]) -> Dict[str, Any]:
    n = len(cfg.block_out_channels)
    down = ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in cfg.cross_attn]
    up = ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(list(cfg.cross_attn))]
    return {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": DIFFUSERS_VERSION, "act_fn": "silu",
        "addition_embed_type": None, "attention_head_dim": cfg.attention_head_dim,
        "block_out_channels": list(cfg.block_out_channels), "center_input_sample": False,
        "cross_attention_dim": cfg.cross_attention_dim, "down_block_types": down, "downsample_padding": 1,
        "flip_sin_to_cos": cfg.flip_sin_to_cos, "freq_shift": cfg.freq_shift, "in_channels": cfg.in_channels,
        "layers_per_block": cfg.layers_per_block, "mid_block_scale_factor": 1, "norm_eps": 1e-5,
        "norm_num_groups": cfg.norm_num_groups, "out_channels": cfg.out_channels, "sample_size": sample_size,
        "time_cond_proj_dim": cfg.time_cond_proj_dim, "up_block_types": up,
        "use_linear_projection": cfg.use_linear_projection, "upcast_attention": False,
        **extra,
    }


def vae_config_json(cfg: VaeConfig, sample_size: int) -> Dict[str, Any]:
    n = len(cfg.block_out_channels)
    out = {
        "_class_name": "AutoencoderKL", "_diffusers_version": DIFFUSERS_VERSION, "act_fn": "silu",
        "block_out_channels": list(cfg.block_out_channels), "down_block_types": ["DownEncoderBlock2D"] * n,
        "in_channels": 3, "latent_channels": cfg.latent_channels, "layers_per_block": cfg.layers_per_block,
        "norm_num_groups": cfg.norm_num_groups, "out_channels": 3, "sample_size": sample_size,
        "up_block_types": ["UpDecoderBlock2D"] * n,
    }
    if cfg.scaling_factor is not None:
        out["scaling_factor"] = cfg.scaling_factor
    return out


def model_index(pipeline: str, scheduler_class: str) -> Dict[str, Any]:
    return {
        "_class_name": pipeline, "_diffusers_version": DIFFUSERS_VERSION,
        "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
        "scheduler": ["diffusers", scheduler_class], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae_encoder": ["optimum", "ORTModelVaeEncoder"], "vae_decoder": ["optimum", "ORTModelVaeDecoder"],
    }


def export_unet(v: Variant, unet_cfg: UNetConfig, path: str, latent: int, fixed_batch: Optional[int],
                external: bool = False) -> None:
    torch.manual_seed(v.seed + 1)
    unet = UNet(unet_cfg)
    print(f"   unet params {param_count(unet):,}", flush=True)
    b = fixed_batch or 2
    sample = torch.randn(b, unet_cfg.in_channels, latent, latent)
    if v.timestep_kind == "int64[batch]":
        t = torch.full((b,), 500, dtype=torch.int64)
    elif v.timestep_kind == "float[batch]":
        t = torch.full((b,), 500.0)
    else:
        t = torch.tensor(500.0)
    ehs = torch.randn(b, 77, unet_cfg.cross_attention_dim)
    args = [sample, t, ehs]
    names = ["sample", "timestep", "encoder_hidden_states"]
    batch_axis = {} if fixed_batch else {0: "batch_size"}
    axes: Dict[str, Dict[int, str]] = {
        "sample": {**batch_axis, 2: "height", 3: "width"},
        "encoder_hidden_states": {**batch_axis, 1: "sequence_length"},
        "out_sample": {**batch_axis, 2: "height", 3: "width"},
    }
    if v.timestep_kind != "float[]" and not fixed_batch:
        axes["timestep"] = {0: "steps"}
    if unet_cfg.time_cond_proj_dim:
        args.append(torch.randn(b, unet_cfg.time_cond_proj_dim))
        names.append("timestep_cond")
        axes["timestep_cond"] = dict(batch_axis)
    export(unet, tuple(args), path, names, ["out_sample"], axes, v.fp16, external, fixed_batch=fixed_batch)


def build(out: str, v: Variant, text_cfg: TextConfig, unet_cfg: UNetConfig, vae_cfg: VaeConfig, vocab, merges,
          latent: int, external: bool = False, sample_size: Optional[int] = None) -> None:
    """latent: the latent size of the dummy inputs used for tracing (every size works after export);
    sample_size: the latent size the configs advertise (default: latent)."""
    sample_size = sample_size or latent
    print(f"== {v.name} -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    sched = dict(SCHEDULERS[v.scheduler])
    write_json(os.path.join(out, "model_index.json"), model_index(v.pipeline, sched["_class_name"]))
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), sched)
    write_tokenizer(os.path.join(out, "tokenizer"), vocab, merges, v.pad_token)

    # ---- text encoder
    torch.manual_seed(v.seed)
    te = ClipTextModel(text_cfg)
    print(f"   text_encoder params {param_count(te):,}", flush=True)
    ids = torch.full((2, 77), text_cfg.pad_token_id, dtype=v.ids_dtype)
    ids[:, 0] = text_cfg.bos_token_id
    ids[:, 5] = text_cfg.eos_token_id
    export(te, (ids,), os.path.join(out, "text_encoder", "model.onnx"), ["input_ids"],
           ["last_hidden_state", "pooler_output"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}},
           v.fp16)
    write_json(os.path.join(out, "text_encoder", "config.json"), text_config_json(text_cfg, v.fp16))

    # ---- unet
    export_unet(v, unet_cfg, os.path.join(out, "unet", "model.onnx"), latent, v.fixed_batch, external)
    write_json(os.path.join(out, "unet", "config.json"),
               unet_config_json(unet_cfg, sample_size, v.fp16, v.extra_unet_config))

    # ---- vae
    torch.manual_seed(v.seed + 2)
    enc = VaeEncoder(vae_cfg, mode_only=v.vae_output == "latent_sample")
    torch.manual_seed(v.seed + 3)
    dec = VaeDecoder(vae_cfg)
    if not external:
        # Random weights give images of about +-2.5; scale the last conv so they stay in about [-1, 1].
        with torch.no_grad():
            dec.conv_out.weight.mul_(0.4)
            dec.conv_out.bias.mul_(0.4)
    print(f"   vae params enc {param_count(enc):,} dec {param_count(dec):,}", flush=True)
    img = torch.rand(1, 3, latent * 8, latent * 8) * 2 - 1
    export(enc, (img,), os.path.join(out, "vae_encoder", "model.onnx"), ["sample"], [v.vae_output],
           {"sample": {0: "batch_size", 2: "height", 3: "width"},
            v.vae_output: {0: "batch_size", 2: "height_latent", 3: "width_latent"}}, v.fp16)
    lat = torch.randn(1, vae_cfg.latent_channels, latent, latent)
    export(dec, (lat,), os.path.join(out, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"},
            "sample": {0: "batch_size", 2: "height", 3: "width"}}, v.fp16)
    for sub in ("vae_encoder", "vae_decoder"):
        write_json(os.path.join(out, sub, "config.json"), vae_config_json(vae_cfg, sample_size * 8))


def tiny_configs(v: Variant, vocab_size: int, bos: int, eos: int, pad: int):
    h = v.text_hidden
    text = TextConfig(vocab_size=vocab_size, hidden_size=h, intermediate_size=2 * h, num_hidden_layers=2,
                      num_attention_heads=2, hidden_act=v.text_act, projection_dim=h,
                      bos_token_id=bos, eos_token_id=eos, pad_token_id=pad)
    unet = UNetConfig(in_channels=v.unet_in, out_channels=4, block_out_channels=(8, 16), cross_attn=(True, False),
                      layers_per_block=1, attention_head_dim=4 if v.linear_proj else 2,
                      heads_are_dims=v.linear_proj, cross_attention_dim=h, norm_num_groups=4,
                      time_cond_proj_dim=v.time_cond_proj_dim, use_linear_projection=v.linear_proj,
                      timestep_kind=v.timestep_kind)
    vae = VaeConfig(block_out_channels=(8, 16, 16, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
                    scaling_factor=v.scaling_factor)
    return text, unet, vae


def make_bad_sdxl_like(out: str, vocab, merges) -> None:
    """Overlay only: model_index.json, text_encoder_2/ and an SDXL-like unet with text_embeds / time_ids."""
    print(f"== bad-sdxl-like -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    mi = model_index("StableDiffusionXLPipeline", "EulerDiscreteScheduler")
    mi["text_encoder_2"] = ["transformers", "CLIPTextModelWithProjection"]
    mi["tokenizer_2"] = ["transformers", "CLIPTokenizer"]
    write_json(os.path.join(out, "model_index.json"), mi)
    F, I64 = TensorProto.FLOAT, TensorProto.INT64

    def save(graph, path):
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_test_models")
        onnx.checker.check_model(m)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        onnx.save_model(m, path)

    # unet: out_sample = sample (identity-ish) with the SDXL inputs present.
    unet = helper.make_graph(
        [helper.make_node("Identity", ["sample"], ["out_sample"])], "unet",
        [helper.make_tensor_value_info("sample", F, ["batch_size", 4, "height", "width"]),
         helper.make_tensor_value_info("timestep", F, []),
         helper.make_tensor_value_info("encoder_hidden_states", F, ["batch_size", "sequence_length", 64]),
         helper.make_tensor_value_info("text_embeds", F, ["batch_size", 32]),
         helper.make_tensor_value_info("time_ids", F, ["batch_size", 6])],
        [helper.make_tensor_value_info("out_sample", F, ["batch_size", 4, "height", "width"])])
    save(unet, os.path.join(out, "unet", "model.onnx"))
    write_json(os.path.join(out, "unet", "config.json"),
               {"_class_name": "UNet2DConditionModel", "addition_embed_type": "text_time", "in_channels": 4,
                "cross_attention_dim": 64, "projection_class_embeddings_input_dim": 224})
    te2 = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["f"], to=F),
         helper.make_node("Unsqueeze", ["f", "axes"], ["last_hidden_state"]),
         helper.make_node("ReduceMean", ["f"], ["text_embeds"], axes=[1], keepdims=1)], "te2",
        [helper.make_tensor_value_info("input_ids", I64, ["batch_size", "sequence_length"])],
        [helper.make_tensor_value_info("text_embeds", F, ["batch_size", 1]),
         helper.make_tensor_value_info("last_hidden_state", F, ["batch_size", "sequence_length", 1])],
        [helper.make_tensor("axes", I64, [1], [2])])
    save(te2, os.path.join(out, "text_encoder_2", "model.onnx"))
    write_json(os.path.join(out, "text_encoder_2", "config.json"),
               {"architectures": ["CLIPTextModelWithProjection"], "hidden_size": 32, "projection_dim": 32})
    write_tokenizer(os.path.join(out, "tokenizer_2"), vocab, merges, "!")


def make_vae_overflow_overlay(out: str) -> None:
    """A float16 vae_decoder: latent_sample [B,4,h,w] -> sample [B,3,8h,8w] = nearest-upsampled channels 0..2
    times 60000 twice, which is past float16's largest value (65504) for any latent above ~2e-5."""
    print(f"== overlay-vae-fp16-overflow -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    H, I64, F = TensorProto.FLOAT16, TensorProto.INT64, TensorProto.FLOAT
    big = helper.make_tensor("big", H, [], [60000.0])
    g = helper.make_graph(
        [helper.make_node("Slice", ["latent_sample", "starts", "ends", "axes"], ["rgb"]),
         helper.make_node("Resize", ["rgb", "", "scales"], ["up"], mode="nearest"),
         helper.make_node("Mul", ["up", "big"], ["once"]),
         helper.make_node("Mul", ["once", "big"], ["sample"])], "vae_decoder",
        [helper.make_tensor_value_info("latent_sample", H, ["batch_size", 4, "height_latent", "width_latent"])],
        [helper.make_tensor_value_info("sample", H, ["batch_size", 3, "height", "width"])],
        [helper.make_tensor("starts", I64, [1], [0]), helper.make_tensor("ends", I64, [1], [3]),
         helper.make_tensor("axes", I64, [1], [1]), helper.make_tensor("scales", F, [4], [1, 1, 8, 8]), big])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_test_models")
    onnx.checker.check_model(m)
    os.makedirs(os.path.join(out, "vae_decoder"))
    onnx.save_model(m, os.path.join(out, "vae_decoder", "model.onnx"))


def make_overlays(out_root: str, vocab_size: int) -> None:
    """Small folders that tests lay over a copy of tiny-sd15."""
    F = TensorProto.FLOAT
    # An UNet with an input the engine does not know (a ControlNet-style residual).
    out = os.path.join(out_root, "bad-extra-input")
    print(f"== bad-extra-input -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    unet = helper.make_graph(
        [helper.make_node("Identity", ["sample"], ["out_sample"])], "unet",
        [helper.make_tensor_value_info("sample", F, ["batch_size", 4, "height", "width"]),
         helper.make_tensor_value_info("timestep", TensorProto.INT64, ["steps"]),
         helper.make_tensor_value_info("encoder_hidden_states", F, ["batch_size", "sequence_length", 32]),
         helper.make_tensor_value_info("down_block_additional_residual", F, ["batch_size", 8, "height", "width"])],
        [helper.make_tensor_value_info("out_sample", F, ["batch_size", 4, "height", "width"])])
    m = helper.make_model(unet, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_test_models")
    onnx.checker.check_model(m)
    os.makedirs(os.path.join(out, "unet"))
    onnx.save_model(m, os.path.join(out, "unet", "model.onnx"))

    # tiny-sd15's UNet (same weights) exported with a fixed batch of 2, as some exports for CFG are.
    out = os.path.join(out_root, "overlay-unet-batch-2")
    print(f"== overlay-unet-batch-2 -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    v = VARIANTS[0]
    _, unet_cfg, _ = tiny_configs(v, vocab_size, 0, 0, 0)
    export_unet(v, unet_cfg, os.path.join(out, "unet", "model.onnx"), 8, fixed_batch=2)

    # tiny-sd15's UNet with its weights in unet/model.onnx_data (as optimum saves models over 2 GB).
    out = os.path.join(out_root, "overlay-external-data")
    print(f"== overlay-external-data -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "unet"))
    m = onnx.load(os.path.join(out_root, "tiny-sd15", "unet", "model.onnx"))
    onnx.save_model(m, os.path.join(out, "unet", "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)


@dataclass
class SdxlVariant:
    name: str
    scheduler: str
    seed: int
    ids_dtype: torch.dtype = torch.int32
    timestep_kind: str = "int64[batch]"
    fp16: bool = False
    unet_in: int = 4
    notes: str = ""


SDXL_VARIANTS = [
    SdxlVariant("tiny-sdxl", "euler-sdxl", seed=3001,
                notes="SDXL base as optimum 1.x exports it: int32 ids, int64 [batch] timestep."),
    SdxlVariant("tiny-sdxl-fp16", "euler-sdxl", seed=3001, fp16=True,
                notes="tiny-sdxl converted to float16 (weights and every float input/output)."),
    SdxlVariant("tiny-sdxl-turbo", "euler-a-turbo", seed=3002, ids_dtype=torch.int64, timestep_kind="float[]",
                notes="SDXL-Turbo as optimum>=1.24: int64 ids, scalar float timestep, EulerAncestral trailing."),
    SdxlVariant("tiny-sdxl-inpaint", "euler-sdxl", seed=3003, unet_in=9,
                notes="SDXL inpainting: 9-channel UNet [latents | mask | masked-image latents]."),
]

# Tiny SDXL sizes: CLIP-L-like (32, quick_gelu, pad = eos) and OpenCLIP-bigG-like (48, gelu, pad "!" = id 0,
# projection 40) text encoders; the UNet's cross-attention takes both concatenated (80).
SDXL_TE1_HIDDEN, SDXL_TE2_HIDDEN, SDXL_POOLED, SDXL_TIME_EMBED = 32, 48, 40, 8


def sdxl_model_index(turbo: bool, inpaint: bool = False) -> Dict[str, Any]:
    mi = model_index("StableDiffusionXLInpaintPipeline" if inpaint else "StableDiffusionXLPipeline", "EulerAncestralDiscreteScheduler" if turbo else "EulerDiscreteScheduler")
    for k in ("feature_extractor", "safety_checker", "requires_safety_checker"):
        mi.pop(k, None)
    mi["force_zeros_for_empty_prompt"] = True
    mi["add_watermarker"] = None
    mi["text_encoder_2"] = ["transformers", "CLIPTextModelWithProjection"]
    mi["tokenizer_2"] = ["transformers", "CLIPTokenizer"]
    return mi


def export_text_with_hidden_states(te: ClipTextWithHiddenStates, ids: torch.Tensor, path: str, fp16: bool) -> None:
    names = te.output_names()
    axes: Dict[str, Dict[int, str]] = {"input_ids": {0: "batch_size", 1: "sequence_length"}}
    for n in names:
        axes[n] = {0: "batch_size"} if n in ("text_embeds", "pooler_output") else {0: "batch_size", 1: "sequence_length"}
    export(te, (ids,), path, ["input_ids"], names, axes, fp16)


@dataclass
class SdxlModules:
    te1: ClipTextWithHiddenStates
    te1_cfg: TextConfig
    te2: ClipTextWithHiddenStates
    te2_cfg: TextConfig
    unet: SdxlUNet
    unet_cfg: UNetConfig
    vae_encoder: VaeEncoder
    vae_decoder: VaeDecoder
    vae_cfg: VaeConfig


def sdxl_modules(v: SdxlVariant, vocab) -> SdxlModules:
    """The torch modules of an SDXL variant, seeded: the exporter and tools/reference/sdxl_parity.py build the same."""
    bos, eos = vocab[SPECIAL_BOS], vocab[SPECIAL_EOS]
    # CLIP-L-like; OpenCLIP-bigG-like with projection
    te1_cfg = TextConfig(vocab_size=len(vocab), hidden_size=SDXL_TE1_HIDDEN, intermediate_size=2 * SDXL_TE1_HIDDEN,
                         num_hidden_layers=2, num_attention_heads=2, hidden_act="quick_gelu",
                         projection_dim=SDXL_TE1_HIDDEN, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos)
    te2_cfg = TextConfig(vocab_size=len(vocab), hidden_size=SDXL_TE2_HIDDEN, intermediate_size=2 * SDXL_TE2_HIDDEN,
                         num_hidden_layers=2, num_attention_heads=2, hidden_act="gelu",
                         projection_dim=SDXL_POOLED, bos_token_id=bos, eos_token_id=eos, pad_token_id=vocab["!"])
    torch.manual_seed(v.seed)
    te1 = ClipTextWithHiddenStates(te1_cfg, None)
    torch.manual_seed(v.seed + 10)
    te2 = ClipTextWithHiddenStates(te2_cfg, SDXL_POOLED)
    unet_cfg = UNetConfig(in_channels=v.unet_in, out_channels=4, block_out_channels=(8, 16), cross_attn=(True, True),
                          layers_per_block=1, attention_head_dim=2,
                          cross_attention_dim=SDXL_TE1_HIDDEN + SDXL_TE2_HIDDEN, norm_num_groups=4,
                          use_linear_projection=True, timestep_kind=v.timestep_kind)
    torch.manual_seed(v.seed + 1)
    unet = SdxlUNet(unet_cfg, SDXL_POOLED, SDXL_TIME_EMBED)
    vae_cfg = VaeConfig(block_out_channels=(8, 16, 16, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
                        scaling_factor=0.13025)
    torch.manual_seed(v.seed + 2)
    enc = VaeEncoder(vae_cfg, mode_only=False)
    torch.manual_seed(v.seed + 3)
    dec = VaeDecoder(vae_cfg)
    # Random weights give images of about +-2.5; scale the last conv so they stay in about [-1, 1].
    with torch.no_grad():
        dec.conv_out.weight.mul_(0.4)
        dec.conv_out.bias.mul_(0.4)
    for m in (te1, te2, unet, enc, dec):
        m.eval()
    return SdxlModules(te1, te1_cfg, te2, te2_cfg, unet, unet_cfg, enc, dec, vae_cfg)


def build_sdxl(out: str, v: SdxlVariant, vocab, merges, latent: int = 8) -> None:
    """An optimum-layout SDXL folder: two text encoders with hidden states, a "text_time" UNet, SDXL's VAE scale."""
    print(f"== {v.name} -> {out}", flush=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    turbo = "turbo" in v.scheduler
    sched = dict(SCHEDULERS[v.scheduler])
    write_json(os.path.join(out, "model_index.json"), sdxl_model_index(turbo, v.unet_in == 9))
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), sched)
    bos, eos = vocab[SPECIAL_BOS], vocab[SPECIAL_EOS]
    write_tokenizer(os.path.join(out, "tokenizer"), vocab, merges, SPECIAL_EOS)
    write_tokenizer(os.path.join(out, "tokenizer_2"), vocab, merges, "!")

    mods = sdxl_modules(v, vocab)
    for sub, te, cfg in (("text_encoder", mods.te1, mods.te1_cfg), ("text_encoder_2", mods.te2, mods.te2_cfg)):
        print(f"   {sub} params {param_count(te):,}", flush=True)
        ids = torch.full((2, 77), cfg.pad_token_id, dtype=v.ids_dtype)
        ids[:, 0] = bos
        ids[:, 5] = eos
        export_text_with_hidden_states(te, ids, os.path.join(out, sub, "model.onnx"), v.fp16)
        cj = text_config_json(cfg, v.fp16)
        if te.text_projection is not None:
            cj["architectures"] = ["CLIPTextModelWithProjection"]
        write_json(os.path.join(out, sub, "config.json"), cj)

    # ---- unet
    unet, unet_cfg = mods.unet, mods.unet_cfg
    print(f"   unet params {param_count(unet):,}", flush=True)
    ctx_dim = unet_cfg.cross_attention_dim
    b = 2
    t = torch.full((b,), 500, dtype=torch.int64) if v.timestep_kind == "int64[batch]" else torch.tensor(500.0)
    args = (torch.randn(b, unet_cfg.in_channels, latent, latent), t, torch.randn(b, 77, ctx_dim), torch.randn(b, SDXL_POOLED),
            torch.tensor([[64.0, 64.0, 0.0, 0.0, 64.0, 64.0]] * b))
    names = ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"]
    axes: Dict[str, Dict[int, str]] = {
        "sample": {0: "batch_size", 2: "height", 3: "width"},
        "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
        "text_embeds": {0: "batch_size"}, "time_ids": {0: "batch_size"},
        "out_sample": {0: "batch_size", 2: "height", 3: "width"},
    }
    if v.timestep_kind != "float[]":
        axes["timestep"] = {0: "steps"}
    export(unet, args, os.path.join(out, "unet", "model.onnx"), names, ["out_sample"], axes, v.fp16)
    uj = unet_config_json(unet_cfg, latent, v.fp16, {
        "addition_embed_type": "text_time", "addition_time_embed_dim": SDXL_TIME_EMBED,
        "projection_class_embeddings_input_dim": SDXL_POOLED + 6 * SDXL_TIME_EMBED,
        "requires_aesthetics_score": False, "text_encoder_projection_dim": SDXL_POOLED,
        "transformer_layers_per_block": 1})
    write_json(os.path.join(out, "unet", "config.json"), uj)

    # ---- vae (SDXL's scale; latent_parameters as optimum >= 1.23)
    enc, dec, vae_cfg = mods.vae_encoder, mods.vae_decoder, mods.vae_cfg
    img = torch.rand(1, 3, latent * 8, latent * 8) * 2 - 1
    export(enc, (img,), os.path.join(out, "vae_encoder", "model.onnx"), ["sample"], ["latent_parameters"],
           {"sample": {0: "batch_size", 2: "height", 3: "width"},
            "latent_parameters": {0: "batch_size", 2: "height_latent", 3: "width_latent"}}, v.fp16)
    export(dec, (torch.randn(1, 4, latent, latent),), os.path.join(out, "vae_decoder", "model.onnx"),
           ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"},
            "sample": {0: "batch_size", 2: "height", 3: "width"}}, v.fp16)
    for sub in ("vae_encoder", "vae_decoder"):
        vj = vae_config_json(vae_cfg, latent * 8)
        vj["force_upcast"] = True
        write_json(os.path.join(out, sub, "config.json"), vj)


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "models"),
                    help="output folder for the tiny variants (default: tests/models)")
    ap.add_argument("--only", nargs="*", help="build only these variants (names as listed above)")
    ap.add_argument("--full", action="store_true",
                    help="build the full-size SD 1.5-shaped random model instead, under models-full/ (not committed)")
    ap.add_argument("--full-out", default=os.path.join(ROOT, "models-full", "sd15-random"),
                    help="output folder for --full (default: models-full/sd15-random)")
    ap.add_argument("--dry-run", action="store_true",
                    help="with --full: build the networks and print their parameter counts, export nothing")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1; the export is mostly serial)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    vocab, merges = build_vocab(400)
    bos, eos = vocab[SPECIAL_BOS], vocab[SPECIAL_EOS]

    if a.full:
        v = Variant("sd15-random", "StableDiffusionPipeline", "pndm-sd15", seed=15)
        text = TextConfig(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                          num_attention_heads=12, hidden_act="quick_gelu", projection_dim=768,
                          bos_token_id=bos, eos_token_id=eos, pad_token_id=eos)
        unet = UNetConfig(in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
                          cross_attn=(True, True, True, False), layers_per_block=2, attention_head_dim=8,
                          cross_attention_dim=768, norm_num_groups=32, timestep_kind="int64[batch]")
        vae = VaeConfig(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                        norm_num_groups=32, scaling_factor=0.18215)
        if a.dry_run:
            for label, net in (("text_encoder", ClipTextModel(text)), ("unet", UNet(unet)),
                               ("vae_encoder", VaeEncoder(vae, mode_only=True)), ("vae_decoder", VaeDecoder(vae))):
                n = param_count(net)
                print(f"{label:13s} {n:>13,d} params  {n * 4 / 1e9:6.2f} GB fp32")
                del net
            return
        # Trace with small inputs (cheap); the configs advertise SD 1.5's 64x64 latents (512x512 images).
        build(a.full_out, v, text, unet, vae, vocab, merges, latent=8, external=True, sample_size=64)
        print(f"total {dir_size(a.full_out) / 1e6:.1f} MB")
        return

    os.makedirs(a.out, exist_ok=True)
    for v in VARIANTS:
        if a.only and v.name not in a.only:
            continue
        pad = vocab[v.pad_token]
        text, unet, vae = tiny_configs(v, len(vocab), bos, eos, pad)
        build(os.path.join(a.out, v.name), v, text, unet, vae, vocab, merges, latent=8)
    for sv in SDXL_VARIANTS:
        if not a.only or sv.name in a.only:
            build_sdxl(os.path.join(a.out, sv.name), sv, vocab, merges)
    if not a.only or "bad-sdxl-like" in a.only:
        make_bad_sdxl_like(os.path.join(a.out, "bad-sdxl-like"), vocab, merges)
    if not a.only or "overlays" in a.only:
        make_overlays(a.out, len(vocab))
    if not a.only or "overlay-vae-fp16-overflow" in a.only:
        make_vae_overflow_overlay(os.path.join(a.out, "overlay-vae-fp16-overflow"))
    total = 0
    for name in sorted(os.listdir(a.out)):
        p = os.path.join(a.out, name)
        if os.path.isdir(p):
            s = dir_size(p)
            total += s
            print(f"{name:16s} {s / 1e6:7.2f} MB")
    print(f"{'total':16s} {total / 1e6:7.2f} MB")


if __name__ == "__main__":
    main()
