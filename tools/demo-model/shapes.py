"""Procedural training data for the Latent Studio demo model: one coloured shape on a coloured
background, 64x64, with a caption. Everything is deterministic given a numpy seed."""

from __future__ import annotations

import re

import numpy as np

SIZE = 64

COLORS = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (30, 70, 220),
    "yellow": (240, 220, 30),
    "purple": (140, 50, 180),
    "orange": (245, 135, 20),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
COLOR_NAMES = list(COLORS)
SHAPES = ["circle", "square", "triangle"]
SIZES = ["small", "large"]
POSITIONS = ["left", "right", "top", "bottom", "center"]

HALF = {"small": 8.0, "large": 14.0}           # half the side of the bounding box, pixels
OFFSET = 16.0                                   # distance of left/right/top/bottom from the center
POS_XY = {"center": (0.0, 0.0), "left": (-OFFSET, 0.0), "right": (OFFSET, 0.0),
          "top": (0.0, -OFFSET), "bottom": (0.0, OFFSET)}
POS_PHRASE = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
              "center": "in the center"}

TEMPLATES = [
    "a {size} {color} {shape} {pos} on a {bg} background",
    "a {size} {color} {shape} {pos}, {bg} background",
    "{size} {color} {shape} {pos} on a {bg} background",
    "a {bg} background with a {size} {color} {shape} {pos}",
]

# Every word a caption can contain (the tokenizer makes each one a single token).
WORDS = sorted(set(" ".join(TEMPLATES).replace("{size}", "").replace("{color}", "").replace("{shape}", "")
                   .replace("{pos}", "").replace("{bg}", "").replace(",", " ").split())
               | set(COLOR_NAMES) | set(SHAPES) | set(SIZES)
               | set(" ".join(POS_PHRASE.values()).split()) | {"shape", "background", "a", "an", "and", "with"})


def caption(rng: np.random.Generator, shape: str, color: str, size: str, pos: str, bg: str,
            p_drop: float = 0.15) -> str:
    """A caption in one of several phrasings; each of size / position / background is left out with
    probability p_drop (so prompts naming fewer attributes work too)."""
    t = TEMPLATES[rng.integers(len(TEMPLATES))]
    drop_size = rng.random() < p_drop
    drop_pos = rng.random() < p_drop
    drop_bg = rng.random() < p_drop
    if drop_bg:
        t = {"a {bg} background with a {size} {color} {shape} {pos}": "a {size} {color} {shape} {pos}"}.get(t, t)
        t = t.replace(" on a {bg} background", "").replace(", {bg} background", "")
    s = t.format(size="" if drop_size else size, color=color, shape=shape, pos="" if drop_pos else POS_PHRASE[pos],
                 bg=bg)
    s = " ".join(s.replace(" ,", ",").split()).strip(", ")
    return re.sub(r"\ba (orange)\b", r"an \1", s)


def sample_attributes(rng: np.random.Generator):
    shape = SHAPES[rng.integers(len(SHAPES))]
    size = SIZES[rng.integers(len(SIZES))]
    pos = POSITIONS[rng.integers(len(POSITIONS))]
    color = COLOR_NAMES[rng.integers(len(COLOR_NAMES))]
    bg = color
    while bg == color:
        bg = COLOR_NAMES[rng.integers(len(COLOR_NAMES))]
    return shape, color, size, pos, bg


def coverage(shape: str, cx: float, cy: float, half: float) -> np.ndarray:
    """Anti-aliased coverage [SIZE,SIZE] in [0,1] from a signed distance (pixels)."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5
    dx, dy = xs - cx, ys - cy
    if shape == "circle":
        d = np.sqrt(dx * dx + dy * dy) - half
    elif shape == "square":
        d = np.maximum(np.abs(dx), np.abs(dy)) - half
    elif shape == "triangle":
        # apex (0,-h), base corners (-h,h), (h,h): bounding box 2h x 2h, area half of it
        k = 1.0 / np.sqrt(5.0)
        d = np.maximum.reduce([dy - half, (2 * dx - dy - half) * k, (-2 * dx - dy - half) * k])
    else:
        raise ValueError(shape)
    return np.clip(0.5 - d, 0.0, 1.0)


def render(rng: np.random.Generator, shape: str, color: str, size: str, pos: str, bg: str,
           jitter: bool = True) -> np.ndarray:
    """uint8 [SIZE,SIZE,3]."""
    half = HALF[size] * (1.0 + (rng.uniform(-0.1, 0.1) if jitter else 0.0))
    ox, oy = POS_XY[pos]
    jx, jy = (rng.uniform(-2.5, 2.5, 2) if jitter else (0.0, 0.0))
    cx, cy = SIZE / 2 + ox + jx, SIZE / 2 + oy + jy
    a = coverage(shape, cx, cy, half)[..., None]
    cj = rng.integers(-12, 13, 3) if jitter else 0
    bj = rng.integers(-12, 13, 3) if jitter else 0
    fg = np.clip(np.array(COLORS[color], np.float32) + cj, 0, 255)
    bgc = np.clip(np.array(COLORS[bg], np.float32) + bj, 0, 255)
    img = a * fg + (1 - a) * bgc
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_dataset(seed: int, n: int):
    """n images (uint8 [n,64,64,3]), attribute tuples, captions."""
    rng = np.random.default_rng(seed)
    imgs = np.empty((n, SIZE, SIZE, 3), np.uint8)
    attrs, caps = [], []
    for i in range(n):
        at = sample_attributes(rng)
        imgs[i] = render(rng, *at)
        attrs.append(at)
        caps.append(caption(rng, *at))
    return imgs, attrs, caps


# ----------------------------------------------------------------------------- measuring images

PALETTE = np.array([COLORS[c] for c in COLOR_NAMES], np.float32)


def classify_pixels(img: np.ndarray) -> np.ndarray:
    """Nearest palette colour index per pixel ([H,W] int)."""
    d = ((img[..., None, :].astype(np.float32) - PALETTE[None, None]) ** 2).sum(-1)
    return d.argmin(-1)


def measure(img: np.ndarray, color):
    """What an image shows, by simple measures: background colour (mode of the 2-px border),
    and for the pixels nearest to `color` (None: every pixel not of the background colour, i.e. the layout
    whatever its colours): area, centroid -> position, bounding box -> size, best-fitting ideal shape."""
    cls = classify_pixels(img)
    border = np.concatenate([cls[:2].ravel(), cls[-2:].ravel(), cls[:, :2].ravel(), cls[:, -2:].ravel()])
    bg = COLOR_NAMES[np.bincount(border, minlength=len(COLOR_NAMES)).argmax()]
    m = cls == COLOR_NAMES.index(color) if color is not None else cls != COLOR_NAMES.index(bg)
    area = int(m.sum())
    out = {"bg": bg, "area": area, "shape": None, "size": None, "pos": None, "fill": 0.0}
    if area < 40:
        return out
    ys, xs = np.nonzero(m)
    cx, cy = xs.mean() + 0.5 - SIZE / 2, ys.mean() + 0.5 - SIZE / 2
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    w, h = x1 - x0, y1 - y0
    out["fill"] = area / float(w * h)
    # Shape: which ideal circle / square / upright triangle with the same area and centroid overlaps the
    # pixels best (intersection over union); robust to the VAE's soft corners and stray edge pixels.
    mx, my = xs.mean() + 0.5, ys.mean() + 0.5
    templates = {"circle": (mx, my, (area / np.pi) ** 0.5), "square": (mx, my, area ** 0.5 / 2),
                 "triangle": (mx, my - (area / 2) ** 0.5 / 3, (area / 2) ** 0.5)}
    ious = {}
    for s, (tx, ty, th) in templates.items():
        t = coverage(s, tx, ty, th) >= 0.5
        ious[s] = float((t & m).sum() / max(1, (t | m).sum()))
    out["iou"] = ious
    out["shape"] = max(ious, key=ious.get)
    out["size"] = "large" if max(w, h) > 22 else "small"
    if max(abs(cx), abs(cy)) < 8:
        out["pos"] = "center"
    elif abs(cx) >= abs(cy):
        out["pos"] = "left" if cx < 0 else "right"
    else:
        out["pos"] = "top" if cy < 0 else "bottom"
    out["cx"], out["cy"] = float(cx), float(cy)
    return out
