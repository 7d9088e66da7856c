"""Theme keywords per language (c-TF-IDF) and short readable theme labels.

c-TF-IDF is computed within each language: the texts of theme t in language L form one
class document, and the classes of L (theme -1, the outliers, included) are compared only
with each other, so a Chinese word competes only with Chinese text. The weighting is
BERTopic's `ClassTfidfTransformer(reduce_frequent_words=True)`:

    score(t, w) = sqrt(count(t, w) / words(t)) * log(1 + A / count(w))

with A the mean number of words per class and count(w) the count of w over all classes
of the language. Terms are content words from `miner.nlp.tokens` plus, in languages
written with spaces, bigrams of words adjacent in the text ("late delivery"); a unigram
that occurs in a theme only inside a selected bigram gives way to the bigram.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import sparse

from miner.nlp.tokens import is_stopword, norm_lang, spaced, stream

__all__ = ["MIN_DOCS", "TermTable", "keywords_by_language", "term_table", "theme_label"]

MIN_DOCS = 3  # a language with fewer texts in a theme says too little to name it
# A language with fewer texts than both of these is split by spaCy's multi-language rules,
# not its own tokenizer: langid finds dozens of stray languages in a large corpus (measured:
# 59 in 20k texts, 20 s of tokenizer building in a profiled discovery); a small corpus keeps
# its languages' own rules.
OWN_TOKENIZER_DOCS = 100
OWN_TOKENIZER_SHARE = 0.01
MAX_WORD = 25
MAX_LABEL = 60
FALLBACK = "theme"

Keywords = dict[str, list[tuple[str, float]]]


class _StopTerms:
    """User stop terms (brands, shops) matched as token sequences after tokenisation."""

    def __init__(self, terms: set[str] | frozenset[str]):
        self.terms = sorted({t.strip() for t in terms if isinstance(t, str) and t.strip()})
        self.folded = {t.casefold() for t in self.terms}
        self._by_lang: dict[str, dict[str, list[tuple[str, ...]]]] = {}

    def _seqs(self, lang: str) -> dict[str, list[tuple[str, ...]]]:
        if lang not in self._by_lang:
            first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
            for term in self.terms:
                seq = tuple(w for w, _ in stream(term, lang) if w)
                if seq:
                    first[seq[0]].append(seq)
            self._by_lang[lang] = first
        return self._by_lang[lang]

    def mask(self, toks: list[tuple[str, bool]], lang: str) -> list[tuple[str, bool]]:
        if not self.terms:
            return toks
        seqs = self._seqs(lang)
        words = [w for w, _ in toks]
        drop = [False] * len(toks)
        for i, w in enumerate(words):
            for seq in seqs.get(w, ()):
                if tuple(words[i : i + len(seq)]) == seq:
                    drop[i : i + len(seq)] = [True] * len(seq)
            if w in self.folded or not spaced(lang) and any(t in w for t in self.folded):
                drop[i] = True
        return [(w, ok and not d) for (w, ok), d in zip(toks, drop)]


def _terms(toks: list[tuple[str, bool]], bigrams: bool, parts: dict[str, tuple[str, str]]) -> Counter:
    out: Counter = Counter(w for w, ok in toks if ok)
    if bigrams:
        for (a, oka), (b, okb) in pairwise(toks):
            if oka and okb and a != b:
                gram = f"{a} {b}"
                parts.setdefault(gram, (a, b))
                out[gram] += 1
    return out


@dataclass
class TermTable:
    """The slow half of keywords: the terms of each distinct (language, text). It needs no
    themes, so `miner.themes.discover` builds it in a second process while the clustering runs."""

    terms: dict[tuple[str, str], Counter]
    parts: dict[str, tuple[str, str]]  # bigram -> its two words


def term_table(texts: list[str], langs: list[str], stop_terms: set[str] | frozenset[str] = frozenset()) -> TermTable:
    """Tokenise each distinct (language, text) once, however many times it occurs."""
    docs = Counter((norm_lang(lang), text if isinstance(text, str) else "") for text, lang in zip(texts, langs))
    lang_docs: Counter = Counter()
    for (lang, _text), n in docs.items():
        lang_docs[lang] += n
    total_docs = sum(lang_docs.values())
    stops = _StopTerms(stop_terms)
    table = TermTable({}, {})
    for lang, text in sorted(docs):
        # A language with fewer than MIN_DOCS texts in all can name no theme: not tokenised at
        # all (langid finds dozens of such stray languages in 20k texts, each a tokenizer to load).
        if lang_docs[lang] < MIN_DOCS:
            continue
        generic = lang_docs[lang] < min(OWN_TOKENIZER_DOCS, OWN_TOKENIZER_SHARE * total_docs)
        table.terms[lang, text] = _terms(stops.mask(stream(text, lang, generic), lang), spaced(lang), table.parts)
    return table


def keywords_by_language(
    texts: list[str],
    langs: list[str],
    themes: list[int],
    *,
    top_n: int = 10,
    stop_terms: set[str] | frozenset[str] = frozenset(),
    min_df: int = 2,
    table: TermTable | None = None,
) -> dict[int, Keywords]:
    """{theme: {lang: [(term, score), ...]}} for every theme but -1, best term first.

    Languages are listed by their number of texts in the theme; a language with fewer than
    MIN_DOCS texts in a theme gets no entry there. Terms found in fewer than `min_df` texts
    of their language are left out. Ties are broken by the term, so the result does not
    depend on the order of the input. `table`: `term_table(texts, langs, stop_terms)` made
    beforehand (the same texts, languages and stop terms), else it is made here.
    """
    if not len(texts) == len(langs) == len(themes):
        raise ValueError("texts, langs and themes must have the same length")
    table = table if table is not None else term_table(texts, langs, stop_terms)
    groups = Counter(
        (norm_lang(lang), text if isinstance(text, str) else "", int(theme))
        for text, lang, theme in zip(texts, langs, themes)
    )
    counts: dict[str, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    df: dict[str, Counter] = defaultdict(Counter)
    n_docs: dict[tuple[str, int], int] = Counter()
    for (lang, text, theme), n in sorted(groups.items()):
        terms = table.terms.get((lang, text))
        if terms is None:  # a language too rare to name a theme
            continue
        n_docs[lang, theme] += n
        cls = counts[lang][theme]
        for term, k in terms.items():
            cls[term] += k * n
            df[lang][term] += n

    out: dict[int, Keywords] = {t: {} for t in sorted({int(t) for t in themes}) if t != -1}
    for lang in sorted(counts):
        scored = _ctfidf(counts[lang], df[lang], min_df)
        for theme, ranked in scored.items():
            if theme == -1 or n_docs[lang, theme] < MIN_DOCS or not ranked:
                continue
            picked = _prefer_bigrams(ranked, counts[lang][theme], table.parts, top_n)
            if picked:
                out[theme][lang] = picked
    for theme, by_lang in out.items():
        order = sorted(by_lang, key=lambda lang: (-n_docs[lang, theme], lang))
        out[theme] = {lang: by_lang[lang] for lang in order}
    return out


def _ctfidf(classes: dict[int, Counter], df: Counter, min_df: int) -> dict[int, list[tuple[str, float]]]:
    vocab = sorted(t for t, d in df.items() if d >= min_df)
    if not vocab:
        return {}
    index = {t: i for i, t in enumerate(vocab)}
    themes = sorted(classes)
    rows, cols, vals = [], [], []
    for r, theme in enumerate(themes):
        for t, k in classes[theme].items():
            i = index.get(t)
            if i is not None:
                rows.append(r)
                cols.append(i)
                vals.append(k)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(themes), len(vocab)), dtype=np.float64)
    words = np.asarray(x.sum(axis=1)).ravel()
    freq = np.asarray(x.sum(axis=0)).ravel()
    avg = int(words.mean())  # BERTopic truncates the mean too
    idf = np.log(avg / freq + 1)
    result: dict[int, list[tuple[str, float]]] = {}
    for r, theme in enumerate(themes):
        lo, hi = x.indptr[r], x.indptr[r + 1]
        if lo == hi:
            continue
        idx = x.indices[lo:hi]
        score = np.sqrt(x.data[lo:hi] / words[r]) * idf[idx]
        result[theme] = sorted(zip((vocab[i] for i in idx), score.tolist()), key=lambda p: (-p[1], p[0]))
    return result


def _prefer_bigrams(
    ranked: list[tuple[str, float]], count: Counter, parts: dict[str, tuple[str, str]], top_n: int
) -> list[tuple[str, float]]:
    """Best terms; a selected bigram replaces a word of it that occurs only inside it."""
    picked: list[tuple[str, float]] = []
    absorbed: set[str] = set()
    for term, score in ranked:
        if len(picked) >= top_n:
            break
        if term in absorbed:
            continue
        if term in parts:
            inside = {p for p in parts[term] if count[p] <= count[term]}
            absorbed |= inside
            picked = [p for p in picked if p[0] not in inside]
        picked.append((term, round(score, 6)))
    return picked


def _stems(phrase: str) -> set[str]:
    """Words of a phrase, a Latin plural "s" dropped, to tell whether one label word repeats another."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") and w.isascii() else w for w in phrase.split()}


def _has_stopword(word: str, lang: str) -> bool:
    # A Vietnamese word is several syllables (giảng viên) whose parts may be stopwords alone.
    parts = [word] if norm_lang(lang) == "vi" else [word, *word.split()]
    return any(is_stopword(p, lang) for p in parts)


def _pick(words: list[tuple[str, float]], lang: str, n: int) -> list[str]:
    """Up to n words; a phrase takes the place of the words it is made of ("card · arrive"
    -> "card arrive"), and a word already said ("cards" after "card arrive") is skipped."""
    picked: list[str] = []
    for word, _ in words[: 4 * n]:
        word = " ".join(str(word).split())
        if not word or len(word) > MAX_WORD or _has_stopword(word, lang):
            continue
        mine = _stems(word)
        inside = [p for p in picked if _stems(p) <= mine]
        covered = set().union(*(_stems(p) for p in picked))
        if mine <= covered and set().union(*(_stems(p) for p in inside)) != mine:
            continue
        if inside:
            at = picked.index(inside[0])
            picked = [p for p in picked if p not in inside]
            picked.insert(at, word)
        elif len(picked) < n:
            picked.append(word)
    return picked


def theme_label(keywords: Keywords, lang_counts: dict[str, int], *, n_words: int = 3) -> str:
    """A short name such as "login · password / 登录 · 密码".

    Words come from the theme's most frequent language that has keywords; the top words of
    a second language follow when it holds at least 20% of the theme. At most MAX_WORD
    characters a word and MAX_LABEL a label; FALLBACK when there are no keywords.
    """
    counts = {norm_lang(k): max(int(v or 0), 0) for k, v in (lang_counts or {}).items()}
    kws = {norm_lang(k): v for k, v in (keywords or {}).items() if v}
    order = sorted(kws, key=lambda lang: (-counts.get(lang, 0), lang))
    parts = [(lang, _pick(kws[lang], lang, max(n_words, 1))) for lang in order]
    parts = [(lang, words) for lang, words in parts if words]
    if not parts:
        return FALLBACK
    total = sum(counts.values())
    main = parts[0][1]
    second: list[str] = []
    if len(parts) > 1 and total and counts.get(parts[1][0], 0) / total >= 0.2:
        second = parts[1][1][:2]

    def render() -> str:
        text = " · ".join(main)
        return text + (" / " + " · ".join(second) if second else "")

    while len(render()) > MAX_LABEL and (second or len(main) > 1):
        if second:
            second = second[:-1]
        else:
            main = main[:-1]
    label = render()
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
