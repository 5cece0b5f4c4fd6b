"""Quick check of a trained demo model in torch (before export): txt2img prompt following per attribute,
img2img at low / high strength, and latent-blend inpainting, with the same simple measures as the
engine tests (shapes.measure).

    /usr/bin/python3 tools/demo-model/evaluate.py [--work tools/demo-model/work] [--n 48] [--cfg 7] [--save grid.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
import shapes  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train_vae import to_tensor  # noqa: E402


def prompt_of(shape, color, size, pos, bg):
    s = f"a {size} {color} {shape} {shapes.POS_PHRASE[pos]} on a {bg} background"
    return s.replace("a orange", "an orange")


def eval_prompts(n: int, seed: int = 4242):
    rng = np.random.default_rng(seed)
    return [shapes.sample_attributes(rng) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--unet", default=None)
    ap.add_argument("--raw", action="store_true", help="use the raw (non-EMA) weights")
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=7.0)
    ap.add_argument("--strength-low", type=float, default=0.15)
    ap.add_argument("--cfg-low", type=float, default=3.0, help="CFG scale of the low-strength img2img check")
    ap.add_argument("--cfg-inpaint", type=float, default=7.0)
    ap.add_argument("--save", default=None, help="write a PNG grid of the samples (needs nothing but numpy+zlib)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    tok = Tokenizer()
    enc, dec, scaling = C.load_vae(os.path.join(a.work, "vae.pt"))
    ck = torch.load(a.unet or os.path.join(a.work, "unet.pt"), map_location="cpu")
    text, unet = C.build_text(tok), C.build_unet()
    text.load_state_dict(ck["raw_text" if a.raw else "text"]), unet.load_state_dict(ck["raw_unet" if a.raw else "unet"])
    text.eval(), unet.eval()
    print(f"checkpoint step {ck['step']}, scaling {scaling}")

    att = eval_prompts(a.n)
    prompts = [prompt_of(*x) for x in att]
    lat = torch.cat([C.sample(unet, text, tok, prompts[i:i + 16], range(i, i + len(prompts[i:i + 16])), a.steps, a.cfg)
                     for i in range(0, len(prompts), 16)])
    with torch.no_grad():
        imgs = C.to_uint8(dec(lat / scaling))
    ok = {k: 0 for k in ("color", "shape", "size", "pos", "bg", "all")}
    for img, (shape, color, size, pos, bg) in zip(imgs, att):
        m = shapes.measure(img, color)
        r = {"color": m["area"] >= 40, "shape": m["shape"] == shape, "size": m["size"] == size,
             "pos": m["pos"] == pos, "bg": m["bg"] == bg}
        r["all"] = all(r.values())
        for k, v in r.items():
            ok[k] += int(v)
    print("txt2img success: " + ", ".join(f"{k} {v / len(att):.2f}" for k, v in ok.items()))

    # img2img: a rendered init image, prompt for something else.
    rng = np.random.default_rng(7)
    keep_lo = follow_hi = 0
    k = 8
    for j in range(k):
        src = shapes.sample_attributes(rng)
        init = shapes.render(rng, *src, jitter=False)
        tgt = list(shapes.sample_attributes(rng))
        tgt[1] = [c for c in shapes.COLOR_NAMES if c not in (src[1], src[4])][j % 6]
        tgt[4] = src[4] if tgt[1] != src[4] else tgt[4]
        with torch.no_grad():
            z = enc(to_tensor(init[None]))[:, :4] * scaling
        for strength in (a.strength_low, 0.9):
            cfg = a.cfg_low if strength == a.strength_low else a.cfg
            l2 = C.sample(unet, text, tok, [prompt_of(*tgt)], [100 + j], a.steps, cfg, init_latents=z, strength=strength)
            with torch.no_grad():
                out = C.to_uint8(dec(l2 / scaling))[0]
            if strength < 0.5:
                ms = shapes.measure(out, None)  # the layout, whatever the colours became
                keep_lo += int(ms["pos"] == src[3] and ms["size"] == src[2])
            else:
                mt = shapes.measure(out, tgt[1])
                follow_hi += int(mt["area"] >= 40 and mt["pos"] == tgt[3])
    print(f"img2img: strength {a.strength_low} (CFG {a.cfg_low}) keeps the init layout (position + size) {keep_lo}/{k}; strength 0.9 follows the prompt "
          f"(colour + position) {follow_hi}/{k}")

    # inpainting: red circle on the left on white; repaint the right half with a blue square.
    good = 0
    for j in range(k):
        init = shapes.render(np.random.default_rng(j), "circle", "red", "large", "left", "white", jitter=False)
        with torch.no_grad():
            z = enc(to_tensor(init[None]))[:, :4] * scaling
        mask = torch.zeros(1, 1, 8, 8)
        mask[..., 4:] = 1
        l2 = C.sample(unet, text, tok, ["a small blue square on the right on a white background"], [200 + j], a.steps,
                      a.cfg_inpaint, init_latents=z, strength=1.0, mask=mask)
        with torch.no_grad():
            out = C.to_uint8(dec(l2 / scaling))[0]
        right = out[:, 32:]
        m = shapes.measure(np.ascontiguousarray(out), "blue")
        left_red = shapes.measure(out, "red")
        good += int(m["area"] >= 40 and m.get("cx", -99) > 0 and left_red["pos"] == "left")
        del right
    print(f"inpaint (blue square into the right half, red circle kept): {good}/{k}")
    print(f"eval took {time.time() - t0:.0f} s")
    if a.save:
        save_grid(imgs, a.save)


def save_grid(imgs: np.ndarray, path: str, cols: int = 8) -> None:
    import zlib
    import struct
    n, h, w, _ = imgs.shape
    rows = (n + cols - 1) // cols
    grid = np.zeros((rows * (h + 2), cols * (w + 2), 3), np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        grid[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = im
    raw = b"".join(b"\x00" + row.tobytes() for row in grid)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", grid.shape[1], grid.shape[0], 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main()
