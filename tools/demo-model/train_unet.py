"""Stage 2: train the text encoder and the UNet jointly on the frozen VAE's latents.

    /usr/bin/python3 tools/demo-model/train_unet.py [--seed 1234] [--steps N] [--work tools/demo-model/work]

Epsilon prediction on the SD 1.5 noise schedule (scaled_linear, 1000 steps), so the SD schedulers apply;
10% empty captions (classifier-free guidance / negative prompts); a little offset noise (0.1) so flat
background colours come out right from pure noise; EMA weights (0.999) are what gets exported.
Reads work/vae.pt, writes work/unet.pt (+ work/unet-step*.pt checkpoints)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
import models as M  # noqa: E402
import shapes  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train_vae import to_tensor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=4400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--images", type=int, default=40000, help="training images (rendered once, encoded once)")
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--uncond", type=float, default=0.1, help="share of empty captions (CFG dropout)")
    ap.add_argument("--offset-noise", type=float, default=0.1)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--min-snr", type=float, default=5.0, help="Min-SNR-gamma loss weighting")
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()

    tok = Tokenizer()
    enc, _, scaling = C.load_vae(os.path.join(a.work, "vae.pt"))
    imgs, attrs, _ = shapes.make_dataset(a.seed + 7, a.images)
    with torch.no_grad():
        parts = [enc(to_tensor(imgs[i:i + 500])) for i in range(0, len(imgs), 500)]
    params = torch.cat(parts)
    lat_mean = params[:, :4] * scaling
    lat_std = torch.exp(0.5 * params[:, 4:].clamp(-30, 20)) * scaling
    del imgs, parts, params
    print(f"data: {a.images} images encoded in {time.time() - t0:.0f} s; scaled latent std {float(lat_mean.std()):.3f} "
          f"(scaling_factor {scaling})", flush=True)

    text, unet = C.build_text(tok), C.build_unet()
    print(f"text encoder {M.param_count(text):,} params, unet {M.param_count(unet):,} params", flush=True)
    ema_text, ema_unet = C.build_text(tok), C.build_unet()
    ema_text.load_state_dict(text.state_dict()), ema_unet.load_state_dict(unet.state_dict())
    trainable = list(text.parameters()) + list(unet.parameters())
    ema_params = list(ema_text.parameters()) + list(ema_unet.parameters())
    opt = torch.optim.AdamW(trainable, lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ac = C.alphas_cumprod()
    rng = np.random.default_rng(a.seed + 11)
    empty = tok.encode("")
    avg = None
    t1 = time.time()

    def save(path: str, step: int) -> None:
        torch.save({"text": ema_text.state_dict(), "unet": ema_unet.state_dict(), "raw_text": text.state_dict(),
                    "raw_unet": unet.state_dict(), "step": step, "seed": a.seed, "scaling": scaling,
                    "loss": None if avg is None else float(avg)}, path)

    for step in range(1, a.steps + 1):
        lr = a.lr * min(1.0, step / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.integers(0, a.images, a.batch)
        ids = [empty if rng.random() < a.uncond else tok.encode(shapes.caption(rng, *attrs[i])) for i in idx]
        ti = torch.from_numpy(idx)
        x0 = lat_mean[ti] + lat_std[ti] * torch.randn(a.batch, 4, 8, 8)
        noise = torch.randn(a.batch, 4, 8, 8) + a.offset_noise * torch.randn(a.batch, 4, 1, 1)
        t = torch.randint(0, C.T, (a.batch,))
        abar = ac[t][:, None, None, None]
        xt = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        ctx = text(torch.tensor(ids))[0]
        pred = unet(xt, t, ctx)
        # Min-SNR-gamma weighting (Hang et al. 2023) for epsilon prediction: min(SNR, gamma) / SNR.
        snr = abar.flatten() / (1 - abar.flatten())
        w = torch.clamp(snr, max=a.min_snr) / snr
        loss = ((pred - noise) ** 2).mean(dim=(1, 2, 3)).mul(w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_params, trainable):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if step % 50 == 0 or step == a.steps:
            el = time.time() - t1
            rate = step / el
            print(f"unet step {step}/{a.steps} loss {avg:.4f} lr {lr:.2e} {rate:.2f} it/s "
                  f"elapsed {el / 60:.1f} min eta {(a.steps - step) / rate / 60:.1f} min", flush=True)
        if step % a.save_every == 0 and step < a.steps:
            save(os.path.join(a.work, "unet-last.pt"), step)
    save(os.path.join(a.work, "unet.pt"), a.steps)
    print(f"unet done: {a.steps} steps, final loss (EMA of batch losses) {avg:.4f}, "
          f"total {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
