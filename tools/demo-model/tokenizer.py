"""The demo model's CLIP-format tokenizer (vocab.json + merges.txt): the 512 byte-level tokens of CLIP,
merges learned by plain BPE over the caption vocabulary (so every caption word is one token), then
<|startoftext|> and <|endoftext|> (the two highest ids, as in CLIP). Padding is <|endoftext|> (SD 1.5)."""

from __future__ import annotations

import os
import re
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testmodels.vocab import SPECIAL_BOS, SPECIAL_EOS, bytes_to_unicode, learn_bpe_merges, write_tokenizer  # noqa: E402,F401

from shapes import WORDS  # noqa: E402

MAX_LEN = 77
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+""")


def learn_merges(words: List[str]) -> List[Tuple[str, str]]:
    """Plain BPE until every word is a single symbol (ties broken by the pair itself: deterministic)."""
    b2u = bytes_to_unicode()
    corpus = {}
    for w in words:
        u = "".join(b2u[b] for b in w.encode("utf-8"))
        corpus[tuple(list(u[:-1]) + [u[-1] + "</w>"])] = 1
    return learn_bpe_merges(corpus)


def build_vocab() -> Tuple[Dict[str, int], List[Tuple[str, str]]]:
    merges = learn_merges(list(WORDS))
    base = list(bytes_to_unicode().values())
    tokens = base + [t + "</w>" for t in base] + [a + b for a, b in merges] + [SPECIAL_BOS, SPECIAL_EOS]
    vocab: Dict[str, int] = {}
    for t in tokens:
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab, merges


class Tokenizer:
    """CLIPTokenizer for lower-case ASCII prompts (what the captions are), 77 ids padded with EOS."""

    def __init__(self):
        self.vocab, self.merges = build_vocab()
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.bos, self.eos = self.vocab[SPECIAL_BOS], self.vocab[SPECIAL_EOS]
        self.b2u = bytes_to_unicode()
        self.cache: Dict[str, List[int]] = {}

    def bpe(self, word: str) -> List[str]:
        u = "".join(self.b2u[b] for b in word.encode("utf-8"))
        sym = list(u[:-1]) + [u[-1] + "</w>"]
        while len(sym) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(sym, sym[1:]))]
            r, _ = min(pairs)
            if r == 1 << 30:
                break
            pair = self.merges[r]
            out, i = [], 0
            while i < len(sym):
                if i < len(sym) - 1 and (sym[i], sym[i + 1]) == pair:
                    out.append(sym[i] + sym[i + 1])
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            sym = out
        return sym

    def encode(self, text: str) -> List[int]:
        ids = [self.bos]
        for w in PAT.findall(" ".join(text.lower().split())):
            if w not in self.cache:
                self.cache[w] = [self.vocab[t] for t in self.bpe(w)]
            ids += self.cache[w]
        ids = ids[: MAX_LEN - 1] + [self.eos]
        return ids + [self.eos] * (MAX_LEN - len(ids))
