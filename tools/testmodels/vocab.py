"""A small CLIP-format BPE vocabulary of our own (vocab.json + merges.txt).

Layout follows OpenAI CLIP's `SimpleTokenizer` / HF `CLIPTokenizer`: the 256 byte-level characters
(in `bytes_to_unicode` order, so "!" is id 0), the same 256 with "</w>", one token per merge, then
`<|startoftext|>` and `<|endoftext|>` (the two highest ids, like CLIP). The merges are learned here by
plain BPE over a built-in list of prompt words, deterministic (ties broken by the pair itself).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Dict, List, Optional, Tuple

# Words that show up in image prompts; repeated counts make common words merge first.
CORPUS = """
a photo of a cat sitting on a table, highly detailed, sharp focus, 8k, trending on artstation
portrait of a woman with red hair, oil painting, by greg rutkowski, dramatic lighting, cinematic
landscape with mountains and a lake at sunset, golden hour, wide angle, volumetric light, beautiful
a dog running on the beach, photograph, bokeh, depth of field, realistic, masterpiece, best quality
an astronaut riding a horse on mars, digital art, concept art, illustration, fantasy, epic
futuristic city at night, neon lights, cyberpunk, rain, reflections, street, blade runner style
watercolor painting of flowers in a vase, soft colors, pastel, delicate, still life
a castle on a hill, clouds, blue sky, green grass, trees, forest, river, bridge, medieval
anime girl with long hair, studio ghibli, colorful, cute, smiling, kawaii, manga, line art
low quality, blurry, worst quality, bad anatomy, extra fingers, deformed, ugly, watermark, text
close up of an old man face, wrinkles, black and white, film grain, kodak, 35mm, portrait
a red car parked in front of a house, morning, snow, winter, warm light, cozy, window
robot in a garden, steampunk, brass, gears, intricate details, octane render, unreal engine
the starry night by van gogh, impressionism, brush strokes, swirling sky, village, moon
underwater scene with fish and coral, sunlight rays, deep blue ocean, whale, jellyfish
a bowl of fruit, apples, oranges, bananas, grapes, wooden table, kitchen, food photography
dragon flying over a burning village, smoke, fire, dark fantasy, artwork, detailed scales
mountain cabin in the woods, autumn leaves, fog, mist, morning light, path, stone, moss
"""

SPECIAL_BOS = "<|startoftext|>"
SPECIAL_EOS = "<|endoftext|>"
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+""")


def bytes_to_unicode() -> Dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn_bpe_merges(corpus: Dict[Tuple[str, ...], int], max_merges: Optional[int] = None) -> List[Tuple[str, str]]:
    """Plain BPE over words given as symbol tuples with counts: merge the most frequent pair (ties broken by the
    pair itself, so the result is deterministic) until max_merges or until no pair is left."""
    merges: List[Tuple[str, str]] = []
    while max_merges is None or len(merges) < max_merges:
        pairs = Counter()
        for sym, c in corpus.items():
            for a, b in zip(sym, sym[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new: Dict[Tuple[str, ...], int] = {}
        for sym, c in corpus.items():
            out: List[str] = []
            i = 0
            while i < len(sym):
                if i < len(sym) - 1 and (sym[i], sym[i + 1]) == best:
                    out.append(sym[i] + sym[i + 1])
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        corpus = new
    return merges


def learn_merges(num_merges: int) -> List[Tuple[str, str]]:
    b2u = bytes_to_unicode()
    words = Counter()
    for line in CORPUS.strip().splitlines():
        for w in PAT.findall(line.lower()):
            words["".join(b2u[b] for b in w.encode("utf-8"))] += 1
    # Every word is a tuple of symbols; the last symbol carries "</w>".
    corpus = {tuple(list(w[:-1]) + [w[-1] + "</w>"]): c for w, c in words.items()}
    return learn_bpe_merges(corpus, num_merges)


def build_vocab(num_merges: int = 400) -> Tuple[Dict[str, int], List[Tuple[str, str]]]:
    merges = learn_merges(num_merges)
    tokens = list(bytes_to_unicode().values())
    tokens = tokens + [t + "</w>" for t in tokens]
    for a, b in merges:
        tokens.append(a + b)
    tokens += [SPECIAL_BOS, SPECIAL_EOS]
    vocab: Dict[str, int] = {}
    for t in tokens:
        if t in vocab:
            raise ValueError(f"duplicate token {t!r}")
        vocab[t] = len(vocab)
    return vocab, merges


def write_tokenizer(dirpath: str, vocab: Dict[str, int], merges: List[Tuple[str, str]], pad_token: str) -> None:
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(dirpath, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    special = {
        "bos_token": {"content": SPECIAL_BOS, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
        "eos_token": {"content": SPECIAL_EOS, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
        "pad_token": pad_token,
        "unk_token": {"content": SPECIAL_EOS, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    }
    with open(os.path.join(dirpath, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(special, f, indent=2)
        f.write("\n")
    config = {
        "add_prefix_space": False,
        "bos_token": special["bos_token"],
        "do_lower_case": True,
        "eos_token": special["eos_token"],
        "errors": "replace",
        "model_max_length": 77,
        "pad_token": pad_token,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": special["unk_token"],
    }
    with open(os.path.join(dirpath, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
