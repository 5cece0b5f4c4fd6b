#!/usr/bin/python3
"""Runs diffusers' own StableDiffusionXLPipeline on the tiny SDXL test models' torch weights and writes the
pictures it paints to tests/fixtures/sdxl/diffusers_sdxl_parity.json, which tests/engine/sdxl/parity.test.ts
compares the engine (the exported ONNX graphs of the same weights) against.

    git -C <diffusers mirror> archive v0.30.3 src/diffusers | tar x -C /tmp/diffusers-0.30.3
    /usr/bin/python3 tools/reference/sdxl_parity.py --diffusers-src /tmp/diffusers-0.30.3/src

What runs is diffusers v0.30.3's pipeline code, unmodified: `StableDiffusionXLPipeline.__call__` (check
inputs, `encode_prompt` with both tokenizers and text encoders, penultimate hidden states, pooled
text_embeds, `force_zeros_for_empty_prompt`, `_get_add_time_ids`, `prepare_latents` from a seeded
torch.Generator, the CFG batch, the scheduler loop, `latents / vae.config.scaling_factor`, the VAE decode and
`VaeImageProcessor.postprocess`), and StableDiffusionXLImg2ImgPipeline's (image preprocessing, strength,
the VAE encode sampled with the same generator, the noised init latents), with its EulerDiscrete / EulerAncestralDiscrete schedulers built from the
test models' scheduler_config.json.

The networks are the ones tools/make_test_models.py exports (`sdxl_modules`: same seeds, same weights),
behind thin adapters that give them the interface diffusers calls (transformers' CLIPTextModel output with
`.hidden_states`, UNet2DConditionModel's `added_cond_kwargs`, AutoencoderKL's `decode` and config).
transformers is not available here, so the tokenizers are a small CLIP BPE over the models' own
vocab.json/merges.txt (enough for the plain ASCII prompts used; the engine's tokenizer is checked against
the real CLIPTokenizer elsewhere, and the fixture keeps the ids so the test compares them too).

Shims, not diffusers code: `huggingface_hub`, `safetensors` and `transformers` are stub modules (nothing is
loaded from or saved to the hub; the pipeline module imports transformers' class names only for type hints;
a temporary dist-info gives the stub a version so that diffusers imports its transformers-dependent parts), and torch 1.13 gets `torch.xpu` / `torch.mps` namespaces that report "not available".
"""

from __future__ import annotations

import argparse
import base64
import importlib.abc
import importlib.machinery
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))


# ----------------------------------------------------------------------------- import shims


class _Placeholder:
    def __init__(self, *a, **k):
        raise RuntimeError("huggingface_hub / safetensors stub: not available in this reference run")


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "validate_hf_hub_args":
            return lambda f: f
        if name.isupper():  # constants: paths, endpoints, regexes
            return "/nonexistent/huggingface-stub"
        return type(name, (_Placeholder,), {})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    ROOTS = ("huggingface_hub", "safetensors", "transformers")

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.ROOTS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _StubModule(spec.name)
        m.__path__ = []
        m.__version__ = "0.0.0"
        return m

    def exec_module(self, module):
        pass


def install_shims() -> None:
    sys.meta_path.insert(0, _StubFinder())
    # diffusers decides "transformers is installed" from its package metadata; the stub gets a version so the
    # SDXL pipeline and its loader mixins import (none of transformers' code is ever called).
    import tempfile
    meta = os.path.join(tempfile.mkdtemp(prefix="sdxl-parity-"), "transformers-4.44.2.dist-info")
    os.makedirs(meta)
    with open(os.path.join(meta, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: transformers\nVersion: 4.44.2\n")
    sys.path.insert(0, os.path.dirname(meta))
    import torch
    for name in ("xpu", "mps"):
        if not hasattr(torch, name):
            setattr(torch, name, types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0,
                                                       empty_cache=lambda: None, manual_seed=lambda *_: None))


# ----------------------------------------------------------------------------- tokenizer


class ClipBpeTokenizer:
    """CLIP's BPE (OpenAI SimpleTokenizer / HF CLIPTokenizer without ftfy) over a vocab.json + merges.txt."""

    def __init__(self, folder: str):
        import regex
        from testmodels.vocab import bytes_to_unicode
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line.strip()]
        self.bpe_ranks = {m: i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        with open(os.path.join(folder, "special_tokens_map.json"), encoding="utf-8") as f:
            special = json.load(f)
        content = lambda t: t["content"] if isinstance(t, dict) else t  # noqa: E731
        self.bos_token_id = self.encoder[content(special["bos_token"])]
        self.eos_token_id = self.encoder[content(special["eos_token"])]
        self.pad_token_id = self.encoder[content(special["pad_token"])]
        self.model_max_length = 77
        self.added_tokens_encoder: dict = {}
        self.pat = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                                 regex.IGNORECASE)
        self.regex = regex

    def bpe(self, token: str) -> list:
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def tokenize(self, text: str) -> list:
        text = " ".join(text.split()).lower()
        out = []
        for t in self.regex.findall(self.pat, text):
            out.extend(self.bpe("".join(self.byte_encoder[b] for b in t.encode("utf-8"))))
        return out

    def __call__(self, text, padding="max_length", max_length=None, truncation=False, return_tensors="pt"):
        import torch
        texts = [text] if isinstance(text, str) else list(text)
        rows = []
        for x in texts:
            ids = [self.encoder[t] for t in self.tokenize(x)]
            if truncation and max_length:
                ids = ids[: max_length - 2]
            rows.append([self.bos_token_id] + ids + [self.eos_token_id])
        width = max_length if padding == "max_length" else max(len(r) for r in rows)
        rows = [r + [self.pad_token_id] * (width - len(r)) for r in rows]
        return types.SimpleNamespace(input_ids=torch.tensor(rows, dtype=torch.int64))

    def batch_decode(self, ids):
        return ["<truncated>" for _ in ids]


# ----------------------------------------------------------------------------- adapters


def adapters(mods, sample_size: int):
    import torch
    from torch import nn

    class TextOutput(tuple):
        hidden_states: tuple

    class TextEncoder(nn.Module):
        """transformers' CLIPTextModel(WithProjection) call: output[0] and .hidden_states."""

        def __init__(self, net, projection_dim):
            super().__init__()
            self.net = net
            self.config = types.SimpleNamespace(projection_dim=projection_dim)

        dtype = torch.float32  # what diffusers reads from ModelMixin / PreTrainedModel
        device = torch.device("cpu")

        def forward(self, input_ids, output_hidden_states=True):
            outs = self.net(input_ids)
            n_hidden = len(self.net.layers) + 1
            r = TextOutput(outs[: len(outs) - n_hidden])
            r.hidden_states = tuple(outs[len(outs) - n_hidden:])
            return r

    class UNet(nn.Module):
        def __init__(self, net, cfg):
            super().__init__()
            self.net = net
            self.config = types.SimpleNamespace(in_channels=4, sample_size=sample_size, time_cond_proj_dim=None,
                                                addition_time_embed_dim=net.time_embed_dim)
            self.add_embedding = types.SimpleNamespace(linear_1=net.add_linear_1)

        dtype = torch.float32  # what diffusers reads from ModelMixin / PreTrainedModel
        device = torch.device("cpu")

        def forward(self, sample, timestep, encoder_hidden_states, timestep_cond=None, cross_attention_kwargs=None,
                    added_cond_kwargs=None, return_dict=False):
            out = self.net(sample, timestep, encoder_hidden_states, added_cond_kwargs["text_embeds"],
                           added_cond_kwargs["time_ids"])
            return (out,)

    class Vae(nn.Module):
        def __init__(self, enc, dec, cfg):
            super().__init__()
            self.enc, self.dec = enc, dec
            self.config = types.SimpleNamespace(scaling_factor=cfg.scaling_factor, force_upcast=True,
                                                block_out_channels=list(cfg.block_out_channels),
                                                latents_mean=None, latents_std=None)

        dtype = torch.float32  # what diffusers reads from ModelMixin / PreTrainedModel
        device = torch.device("cpu")

        def decode(self, z, return_dict=False):
            return (self.dec(z),)

        def encode(self, x, return_dict=True):
            from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
            return types.SimpleNamespace(latent_dist=DiagonalGaussianDistribution(self.enc(x)))

    return (TextEncoder(mods.te1, None), TextEncoder(mods.te2, mods.te2.text_projection.out_features),
            UNet(mods.unet, mods.unet_cfg), Vae(mods.vae_encoder, mods.vae_decoder, mods.vae_cfg))


# ----------------------------------------------------------------------------- cases

def test_image(width: int, height: int, seed: int):
    """tests/engine/pipeline/helpers.ts makeTestImage: the same deterministic RGB picture."""
    import numpy as np
    from PIL import Image
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([(x * 7 + seed * 13) & 255, (y * 5 + seed * 29) & 255, ((x ^ y) * 3 + seed) & 255], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


# (name, variant, call arguments). negative_prompt None = no negative prompt (the engine's '');
# init_image_seed: image-to-image (StableDiffusionXLImg2ImgPipeline) on test_image(width, height, seed).
CASES = [
    ("sdxl-cfg", "tiny-sdxl", dict(prompt="a photo of a cat sitting on a table", negative_prompt="blurry, low quality",
                                   width=64, height=48, num_inference_steps=4, guidance_scale=6.0, seed=1234)),
    ("sdxl-empty-negative", "tiny-sdxl", dict(prompt="portrait of a woman with red hair, oil painting",
                                              negative_prompt=None, width=48, height=64, num_inference_steps=3,
                                              guidance_scale=5.0, seed=77)),
    ("sdxl-turbo", "tiny-sdxl-turbo", dict(prompt="a castle on a hill, clouds, blue sky", negative_prompt=None,
                                           width=64, height=64, num_inference_steps=2, guidance_scale=0.0, seed=5)),
    ("sdxl-img2img", "tiny-sdxl", dict(prompt="watercolor painting of flowers in a vase", negative_prompt="ugly",
                                       width=64, height=56, num_inference_steps=10, guidance_scale=5.0, seed=321,
                                       strength=0.6, init_image_seed=2)),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--diffusers-src", required=True, help="folder holding diffusers/ (v0.30.3's src/)")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "sdxl", "diffusers_sdxl_parity.json"))
    a = ap.parse_args()
    os.environ["ATEN_CPU_CAPABILITY"] = "avx2"  # as the other torch references (randn's code path)
    install_shims()
    sys.path.insert(0, os.path.abspath(a.diffusers_src))
    import numpy as np
    import torch
    import diffusers
    from diffusers import EulerAncestralDiscreteScheduler, EulerDiscreteScheduler
    # The module itself: diffusers' top level offers a placeholder when transformers is not installed.
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import StableDiffusionXLPipeline
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_img2img import (
        StableDiffusionXLImg2ImgPipeline)
    from make_test_models import SDXL_VARIANTS, sdxl_modules
    from testmodels.vocab import build_vocab

    torch.set_num_threads(1)
    vocab, _ = build_vocab(400)
    variants = {v.name: v for v in SDXL_VARIANTS}
    results = []
    for name, variant, args in CASES:
        folder = os.path.join(ROOT, "tests", "models", variant)
        with open(os.path.join(folder, "scheduler", "scheduler_config.json")) as f:
            sched_cfg = json.load(f)
        sched_cls = {"EulerDiscreteScheduler": EulerDiscreteScheduler,
                     "EulerAncestralDiscreteScheduler": EulerAncestralDiscreteScheduler}[sched_cfg["_class_name"]]
        with open(os.path.join(folder, "model_index.json")) as f:
            force_zeros = json.load(f).get("force_zeros_for_empty_prompt", True)
        mods = sdxl_modules(variants[variant], vocab)
        te1, te2, unet, vae = adapters(mods, sample_size=8)
        tok1, tok2 = ClipBpeTokenizer(os.path.join(folder, "tokenizer")), ClipBpeTokenizer(os.path.join(folder, "tokenizer_2"))
        img2img = "init_image_seed" in args
        pipe_cls = StableDiffusionXLImg2ImgPipeline if img2img else StableDiffusionXLPipeline
        pipe = pipe_cls(vae=vae, text_encoder=te1, text_encoder_2=te2, tokenizer=tok1, tokenizer_2=tok2,
                                         unet=unet, scheduler=sched_cls.from_config(sched_cfg),
                                         force_zeros_for_empty_prompt=force_zeros, add_watermarker=False)
        pipe.set_progress_bar_config(disable=True)
        call = {k: v for k, v in args.items() if k not in ("seed", "init_image_seed")}
        if img2img:
            # The image's own size is the picture's (diffusers' img2img takes no width/height).
            call["image"] = test_image(call.pop("width"), call.pop("height"), args["init_image_seed"])
        with torch.no_grad():
            image = pipe(**call, generator=torch.Generator().manual_seed(args["seed"]), output_type="np").images[0]
        # VaeImageProcessor.numpy_to_pil: (images * 255).round().astype("uint8")
        pixels = (image * 255).round().astype("uint8")
        ids1 = tok1(args["prompt"], max_length=77, truncation=True).input_ids[0].tolist()
        ids2 = tok2(args["prompt"], max_length=77, truncation=True).input_ids[0].tolist()
        print(f"{name}: {pixels.shape} mean {pixels.mean():.2f}", flush=True)
        results.append({
            "name": name, "model": variant, "seed": args["seed"], "prompt": args["prompt"],
            "negativePrompt": args["negative_prompt"] or "", "width": args["width"], "height": args["height"],
            "steps": args["num_inference_steps"], "cfgScale": args["guidance_scale"],
            "sampler": sched_cfg["_class_name"], "inputIds": ids1, "inputIds2": ids2,
            **({"strength": args["strength"], "initImageSeed": args["init_image_seed"]} if img2img else {}),
            "rgbBase64": base64.b64encode(np.ascontiguousarray(pixels).tobytes()).decode("ascii"),
            "rgbFloatSum": float(image.astype(np.float64).sum()),
        })
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({
            "about": "Pictures painted by diffusers' StableDiffusionXLPipeline (v0.30.3, unmodified) on the torch weights of "
                     "the tiny SDXL test models; made by tools/reference/sdxl_parity.py. rgbBase64: HxWx3 uint8, "
                     "(image*255).round() as VaeImageProcessor does.",
            "diffusers": diffusers.__version__, "torch": torch.__version__, "cases": results,
        }, f, indent=1)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
