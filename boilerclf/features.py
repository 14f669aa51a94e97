"""Turn paragraphs into numbers, for whole batches at once with numpy.

Two kinds of features, both computed over one code-point array of the entire batch so that the
cost is a few numpy passes rather than a Python loop per n-gram:

- *text*: hashed character 2-4-grams and word 1-2-grams of the lower-cased text, each kind scaled
  to unit norm (the paragraph's words, in any script);
- *shape*: length, case, digits, punctuation, list markers, URLs, terminal punctuation.

Context (neighbours, position, repeats) is added later from stage-one scores: see `context`.
Character tables (class and lower-case of each BMP code point) are data of the model, so a
model gives the same answers whatever Unicode version the running Python has.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Character classes of the table.
SPACE, LOWER, UPPER, LETTER, HAN, MARK, DIGIT, PUNCT, SYMBOL, OTHER = range(10)
_CATEGORY_CLASS = {
    "Ll": LOWER, "Lu": UPPER, "Lt": UPPER, "Lo": LETTER, "Lm": LETTER,
    "Mn": MARK, "Mc": MARK, "Me": MARK, "Nd": DIGIT, "Nl": DIGIT, "No": DIGIT,
    "Zs": SPACE, "Zl": SPACE, "Zp": SPACE,
    "Pc": PUNCT, "Pd": PUNCT, "Ps": PUNCT, "Pe": PUNCT, "Pi": PUNCT, "Pf": PUNCT, "Po": PUNCT,
    "Sm": SYMBOL, "Sc": SYMBOL, "Sk": SYMBOL, "So": SYMBOL,
}
# Scripts written without spaces: each character is a word of its own.
_HAN_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_TERMINAL = ".!?。！？…؟।"
_BULLETS = "-–—•·*▪►>»‣◦"
_SEP = 0  # code point that separates (and pads) paragraphs in the batch array
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)

SHAPE_NAMES = (
    "log_chars", "log_words", "upper_share", "digit_share", "punct_share", "symbol_share",
    "han_share", "title_share", "starts_upper", "starts_lower", "starts_digit", "starts_bullet",
    "starts_punct", "ends_terminal", "ends_colon", "ends_other_punct", "ends_word",
    "has_pipe", "has_at", "has_url", "has_currency", "has_copyright", "one_word", "short",
)


def build_char_tables() -> tuple[np.ndarray, np.ndarray]:
    """Class and lower-case mapping of every BMP code point, from this Python's Unicode data."""
    classes = np.full(0x10000, OTHER, dtype=np.uint8)
    lower = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        char = chr(cp)
        classes[cp] = _CATEGORY_CLASS.get(unicodedata.category(char), OTHER)
        low = char.lower()
        if len(low) == 1:
            lower[cp] = ord(low)
    for first, last in _HAN_RANGES:
        classes[first : last + 1][classes[first : last + 1] == LETTER] = HAN
    classes[[9, 10, 11, 12, 13]] = SPACE
    return classes, lower


@dataclass(frozen=True)
class Hashed:
    """Sparse text features: value `vals[k]` at (`rows[k]`, `cols[k]`); duplicates add up."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    n_rows: int


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


_PRIME = np.uint64(0x100000001B3)


class Featurizer:
    """Computes text and shape features for a batch of paragraphs."""

    def __init__(self, bits: int, char_orders: Sequence[int], classes: np.ndarray, lower: np.ndarray):
        self.bits = bits
        self.char_orders = tuple(char_orders)
        self.classes = classes
        self.lower = lower

    def _codepoints(self, texts: Sequence[str]) -> np.ndarray:
        joined = "\x00" + "\x00".join(texts) + "\x00"
        return np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    def transform(self, texts: Sequence[str]) -> tuple[Hashed, np.ndarray]:
        """Hashed text features and the (n, len(SHAPE_NAMES)) shape matrix of `texts`."""
        n = len(texts)
        texts = [t.strip() for t in texts]
        raw = self._codepoints(texts)
        bmp = raw < 0x10000
        cls = np.where(bmp, self.classes[np.minimum(raw, 0xFFFF)], SYMBOL).astype(np.uint8)
        cls[raw == _SEP] = SPACE
        is_sep = raw == _SEP
        sep_count = np.cumsum(is_sep)
        para = sep_count - 1  # paragraph of each position (a separator starts the next one)
        cp = np.where(bmp, self.lower[np.minimum(raw, 0xFFFF)], raw).astype(np.uint64)
        cp[cls == DIGIT] = ord("0")
        cp[cls == SPACE] = ord(" ")
        cp[is_sep] = _SEP

        parts = [self._char_ngrams(cp, sep_count, para, n)]
        word_parts, word_stats = self._words(cp, cls, para, n)
        parts.extend(word_parts)
        hashed = Hashed(
            rows=np.concatenate([p[0] for p in parts]),
            cols=np.concatenate([p[1] for p in parts]),
            vals=np.concatenate([p[2] for p in parts]),
            n_rows=n,
        )
        return hashed, self._shape(raw, cls, para, n, word_stats)

    def _scaled(self, rows: np.ndarray, h: np.ndarray, n: int, salt: int) -> tuple[np.ndarray, ...]:
        """Bucket hashes `h` and give each paragraph's features of this kind unit norm."""
        counts = np.bincount(rows, minlength=n).astype(np.float32)
        scale = 1.0 / np.sqrt(np.maximum(counts, 1.0))
        cols = (_mix(h ^ np.uint64(salt)) >> np.uint64(64 - self.bits)).astype(np.int64)
        return rows, cols, scale[rows]

    def _char_ngrams(self, cp: np.ndarray, sep_count: np.ndarray, para: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
        rows_all, hashes_all = [], []
        length = len(cp)
        h = cp.copy()
        for order in range(2, max(self.char_orders) + 1):
            h = h[:-1] * _PRIME + cp[order - 1 :]
            if order not in self.char_orders:
                continue
            m = length - order + 1
            start_para = para[:m]
            # valid: no separator strictly inside the n-gram, and not the closing pad alone
            inner = sep_count[order - 2 : order - 2 + m] - sep_count[:m]
            valid = (inner == 0) & (start_para < n)
            rows_all.append(start_para[valid])
            hashes_all.append(h[valid] ^ np.uint64(order))
        rows = np.concatenate(rows_all)
        return self._scaled(rows, np.concatenate(hashes_all), n, 0x51)

    def _words(self, cp: np.ndarray, cls: np.ndarray, para: np.ndarray, n: int) -> tuple[list, dict]:
        is_word = (cls == LOWER) | (cls == UPPER) | (cls == LETTER) | (cls == MARK) | (cls == DIGIT) | (cls == HAN)
        prev_word = np.concatenate([[False], is_word[:-1]])
        starts = np.flatnonzero(is_word & (~prev_word | (cls == HAN) | np.concatenate([[False], cls[:-1] == HAN])))
        if len(starts) == 0:
            empty = np.zeros(0, dtype=np.int64)
            stats = {"n_words": np.zeros(n), "title": np.zeros(n)}
            return [(empty, empty, np.zeros(0, dtype=np.float32))], stats
        # each word runs from its start to the next start or the first non-word position
        word_id = np.cumsum(np.isin(np.arange(len(cp)), starts)) - 1
        positions = np.flatnonzero(is_word & (word_id >= 0))
        wid = word_id[positions]
        offset = positions - starts[wid]
        pow_table = np.cumprod(np.full(int(offset.max()) + 1, _PRIME, dtype=np.uint64)) // _PRIME
        pow_table[0] = np.uint64(1)
        contrib = cp[positions] * pow_table[offset]
        word_hash = np.add.reduceat(contrib, np.searchsorted(wid, np.arange(len(starts))))
        word_para = para[starts]
        bigram_ok = word_para[1:] == word_para[:-1]
        bigram_hash = word_hash[:-1][bigram_ok] * _PRIME + word_hash[1:][bigram_ok]
        stats = {
            "n_words": np.bincount(word_para, minlength=n)[:n].astype(np.float64),
            "title": np.bincount(word_para, weights=(cls[starts] == UPPER), minlength=n)[:n],
        }
        return [
            self._scaled(word_para, word_hash, n, 0x77),
            self._scaled(word_para[:-1][bigram_ok], bigram_hash, n, 0x99),
        ], stats

    def _shape(self, raw: np.ndarray, cls: np.ndarray, para: np.ndarray, n: int, words: dict) -> np.ndarray:
        inside = (raw != _SEP) & (para < n)
        p = para[inside]
        c = cls[inside]
        r = raw[inside]

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(p[mask], minlength=n)[:n].astype(np.float64)

        chars = count(c != SPACE)
        letters = count((c == UPPER) | (c == LOWER))
        safe = np.maximum(chars, 1.0)
        n_words = words["n_words"]
        first = np.zeros(n, dtype=np.int64)
        last = np.zeros(n, dtype=np.int64)
        has_text = chars > 0
        seps = np.flatnonzero(raw == _SEP)
        first[has_text] = seps[:-1][has_text] + 1
        last[has_text] = seps[1:][has_text] - 1
        first_cls, last_cls = cls[first], cls[last]
        first_cp, last_cp = raw[first], raw[last]
        url = (r[:-2] == ord(":")) & (r[1:-1] == ord("/")) & (r[2:] == ord("/"))
        url_count = np.bincount(p[:-2][url], minlength=n)[:n] if len(r) > 2 else np.zeros(n)
        columns = [
            np.log1p(chars) / 5.0,
            np.log1p(n_words) / 4.0,
            count(c == UPPER) / np.maximum(letters, 1.0),
            count(c == DIGIT) / safe,
            count(c == PUNCT) / safe,
            count(c == SYMBOL) / safe,
            count(c == HAN) / safe,
            words["title"] / np.maximum(n_words, 1.0),
            has_text & (first_cls == UPPER),
            has_text & (first_cls == LOWER),
            has_text & (first_cls == DIGIT),
            has_text & np.isin(first_cp, [ord(x) for x in _BULLETS]),
            has_text & (first_cls == PUNCT) & ~np.isin(first_cp, [ord(x) for x in _BULLETS]),
            has_text & np.isin(last_cp, [ord(x) for x in _TERMINAL]),
            has_text & (last_cp == ord(":")),
            has_text & (last_cls == PUNCT) & ~np.isin(last_cp, [ord(x) for x in _TERMINAL + ":"]),
            has_text & np.isin(last_cls, [LOWER, UPPER, LETTER, HAN, DIGIT, MARK]),
            count(r == ord("|")) > 0,
            count(r == ord("@")) > 0,
            url_count > 0,
            count(np.isin(r, [ord(x) for x in "$€£¥₽₹₩₴₺zł"]) ) > 0,
            count(np.isin(r, [0xA9, 0xAE])) > 0,
            n_words <= 1,
            n_words <= 4,
        ]
        return np.column_stack(columns).astype(np.float32)
