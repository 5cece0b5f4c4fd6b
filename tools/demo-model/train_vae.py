"""Stage 1: train the demo VAE (8x down, 4 latent channels) on procedurally generated shapes.

    /usr/bin/python3 tools/demo-model/train_vae.py [--seed 1234] [--steps 450] [--work tools/demo-model/work]

Reconstruction (L1 + MSE) + a small KL term, on random 32x32 crops (aligned to the 8-px latent grid) of
64x64 images: the networks are fully convolutional, so crops teach the same thing at a quarter of the cost.
Writes work/vae.pt (encoder, decoder, the latent std measured on fresh images -> scaling_factor)."""

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
import models as M  # noqa: E402
import shapes  # noqa: E402


def to_tensor(imgs: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--kl", type=float, default=2e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.work, exist_ok=True)

    imgs, _, _ = shapes.make_dataset(a.seed, 12000)
    data = to_tensor(imgs)
    rng = np.random.default_rng(a.seed + 1)
    enc, dec = M.LightVaeEncoder(), M.LightVaeDecoder()
    print(f"vae: encoder {M.param_count(enc):,} params, decoder {M.param_count(dec):,} params", flush=True)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    t0 = time.time()
    avg = None
    for step in range(1, a.steps + 1):
        lr = a.lr * min(1.0, step / 30) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.from_numpy(rng.integers(0, len(data), a.batch))
        nc = (shapes.SIZE - a.crop) // 8 + 1
        oy, ox = [int(v) * 8 for v in rng.integers(0, nc, 2)]
        x = data[idx, :, oy:oy + a.crop, ox:ox + a.crop]
        p = enc(x)
        mean, logvar = p[:, :4], p[:, 4:].clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        y = dec(z)
        rec = F.l1_loss(y, x) + F.mse_loss(y, x)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = rec + a.kl * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        v = np.array([loss.item(), rec.item(), kl.item()])
        avg = v if avg is None else 0.95 * avg + 0.05 * v
        if step % 25 == 0 or step == a.steps:
            el = time.time() - t0
            print(f"vae step {step}/{a.steps} loss {avg[0]:.4f} rec {avg[1]:.4f} kl {avg[2]:.3f} lr {lr:.2e} "
                  f"{step / el:.2f} it/s elapsed {el / 60:.1f} min", flush=True)

    # Latent statistics on fresh full-size images -> scaling factor (unit variance, like SD's 0.18215).
    enc.eval(), dec.eval()
    test, _, _ = shapes.make_dataset(a.seed + 99, 512)
    with torch.no_grad():
        xt = to_tensor(test)
        p = enc(xt)
        mean = p[:, :4]
        std = float(mean.std())
        y = dec(mean)
        err = float((y - xt).abs().mean() * 127.5)
        ok = float(((y.clamp(-1, 1) + 1) * 127.5).round().sub((xt + 1) * 127.5).abs().le(24).float().mean())
    print(f"vae done: latent mean {float(mean.mean()):.3f} std {std:.3f} -> scaling_factor {1 / std:.5f}; "
          f"test mean abs error {err:.2f}/255, pixels within 24/255: {ok * 100:.1f}%; "
          f"{(time.time() - t0) / 60:.1f} min", flush=True)
    torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "latent_std": std,
                "latent_mean": float(mean.mean()), "seed": a.seed, "steps": a.steps}, os.path.join(a.work, "vae.pt"))


if __name__ == "__main__":
    main()
