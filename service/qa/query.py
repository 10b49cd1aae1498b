"""Question -> Query: the subject's words with their weights and the forms that count as found, the scope
(places, years, the whole country), the answer kind and the measure a figure question names.

The frame of a question (question words, politeness, the personal story in front) is taken off before
anything is weighed; what is left is weighed by how much it says about the corpus's subjects: a corpus
term by its BM25 idf, a word the corpus never uses by how rare it is in general Chinese (jieba's IDF
table), so that 时候 or 城里 weighs little and 护照 or 双色球 weighs a lot.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cues
from .general import general_idf
from .ingest import fold
from .numbers import arabic
from .places import Gazetteer, Place
from .sound import SoundIndex
from .thesaurus import Thesaurus
from .tokenize import Tokenizer, normalize
from .weights import W

YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年?(?!\d)")
YEAR_END_RE = re.compile(r"((?:19|20)\d{2}\s*年)")
FIGURE_TERM_RE = re.compile(r"(?<![\d.])(?!(?:19|20)\d\d年)\d+(?:\.\d+)?(?:个月|[年月天日周岁元万亿%‰倍户人家个])")
NUMERAL_RE = re.compile(r"[\d一二三四五六七八九十百千万亿两零〇]")


@dataclass(frozen=True)
class Term:
    """One content word of a question, prepared once: its weight and what counts as finding it."""

    word: str
    weight: float
    known: bool  # the corpus uses the word itself
    forms: tuple[str, ...]  # exact credit: the word, its domain equivalents, its Arabic-numeral form
    parts: tuple[str, ...] = ()  # sub-words, all present: the word split differently
    sounds: tuple[str, ...] = ()  # corpus words that sound the same (a typo: 管户 ~ 管护)
    synonyms: tuple[str, ...] = ()  # thesaurus synonyms the corpus uses (the word itself it does not)
    abbrev: re.Pattern[str] | None = None  # its characters in order, a little apart (高标农田 ~ 高标准农田)
    bigrams: tuple[str, ...] = ()  # character pairs: the last resort for a badly split word
    noun: bool = False  # a noun (or a word jieba does not know): what a question is about
    tag: str = ""  # jieba's part of speech
    soft: bool = field(init=False)  # anything but its exact forms can count as finding it

    def __post_init__(self) -> None:
        soft = bool(self.parts or self.sounds or self.abbrev or self.synonyms or self.bigrams)
        object.__setattr__(self, "soft", soft)


@dataclass(frozen=True)
class Scope:
    places: tuple[Place, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, doc id): a document's own name for its scope
    national: bool = False
    years: tuple[str, ...] = ()  # years the question names
    relative: tuple[tuple[str, int], ...] = ()  # ("去年", -1): read against each document's date
    documents: frozenset[str] = frozenset()  # documents the question names ("农村土地承包法里…")

    @property
    def empty(self) -> bool:
        return not (self.places or self.aliases or self.national or self.years or self.relative or self.documents)


@dataclass(frozen=True)
class Query:
    asked: str  # the question as asked (simplified)
    text: str  # the subject text the terms come from
    kind: str
    tokens: tuple[str, ...]  # what BM25 searches with (terms and their corpus forms)
    terms: tuple[Term, ...]
    scope: Scope
    measure: str | None  # the measure a figure question names, or a counter word (户, 家)
    target: bool  # asks what a plan sets
    achieved: bool  # asks what was done
    wants_list: bool
    units: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # neighbouring subject words as the question prints them together

    @property
    def has_subject(self) -> bool:
        return any(t.weight > 0 for t in self.terms)


@dataclass
class Lexicon:
    """The language resources a question is read with, loaded once per process (before gunicorn forks)."""

    gazetteer: Gazetteer
    thesaurus: Thesaurus

    @classmethod
    def load(cls) -> Lexicon:
        general_idf("")  # load jieba's IDF table now, before the fork
        return cls(Gazetteer.load(), Thesaurus.load())


class Analyzer:
    """Reads questions against one corpus: its index's vocabulary, its documents' scope names and dates."""

    def __init__(self, tokenizer: Tokenizer, lexicon: Lexicon, index, doc_aliases: dict[str, tuple[str, ...]],
                 titles: dict[str, tuple[str, ...]] | None = None):
        self.tokenizer = tokenizer
        # each document's titles as matched: folded, without the country's name laws carry in front
        self._titles = {d: tuple(fold(t).replace("中华人民共和国", "") for t in names if t)
                        for d, names in (titles or {}).items()}
        self.lexicon = lexicon
        self.index = index
        self.sounds = SoundIndex(t for t in index.terms if len(t) > 1 and not NUMERAL_RE.search(t))
        alias_pairs = [(a, doc_id) for doc_id, names in doc_aliases.items() for a in names if a]
        alias_pairs.sort(key=lambda p: -len(p[0]))
        self._aliases = alias_pairs
        self._alias_re = re.compile("|".join(re.escape(a) for a, _ in alias_pairs)) if alias_pairs else None
        self._expansions = tokenizer.vocab.synonyms  # domain equivalences, both directions

    # ---- the question's parts ---------------------------------------------------------------
    def analyze(self, question: str, inherit_kind: str | None = None) -> Query:
        asked = self.tokenizer.simplify(question).strip()
        kind = cues.answer_kind(asked)
        if inherit_kind and kind in ("general", "measures") and inherit_kind not in ("help", "refusal"):
            kind = inherit_kind
        scope, text = self._scope(asked)
        text = cues.QUESTION_WORDS_RE.sub(" ", text)
        text = cues.COUNT_WORD_RE.sub(" ", text)
        text = cues.FRAME_RE.sub(" ", text)
        text = YEAR_END_RE.sub(r"\1 ", text)  # "2024年产量": the year's 年 is not the 年 of 年产量
        story = self._story_words(asked)
        terms, units = self._terms(text, story)
        tokens: list[str] = []
        for term in terms:
            if term.weight <= 0:
                continue
            tokens.append(term.word)
            tokens.extend(f for f in (*term.forms[1:], *term.sounds, *term.synonyms) if self.index.known(f))
            if not term.known:
                tokens.extend(p for p in term.parts if self.index.known(p))
        # a figure the question states is a condition to match ("满5年不满10年"): the passage must say it too
        for m in FIGURE_TERM_RE.finditer(normalize(text)):
            fig = m.group()
            forms = tuple(dict.fromkeys((fig, arabic(fig))))
            terms.append(Term(fig, self.index.weight_unseen * W.figure_share, False, forms))
        nouns = [t for t in terms if t.weight > 0 and t.noun]
        pairs = [(a, b) for a, b in zip(nouns, nouns[1:], strict=False) if a.word + b.word in text]
        phrases = tuple(a.word + b.word for a, b in pairs)
        # a compound of two subject words is evidence of its own: 量子计算机 is not 量子 and 计算机 apart
        terms += [Term(a.word + b.word, self._compound_weight(a, b), self.index.known(a.word + b.word),
                       tuple(dict.fromkeys(x + y for x in a.forms for y in b.forms)))
                  for a, b in pairs]
        return Query(
            asked=asked, text=text, kind=kind, tokens=tuple(tokens), terms=tuple(terms), scope=scope,
            phrases=phrases,
            measure=cues.asked_measure(asked) if kind == "quantity" else None,
            target=bool(cues.TARGET_RE.search(asked)), achieved=bool(cues.ACHIEVED_RE.search(asked)),
            wants_list=bool(cues.LIST_RE.search(asked)), units=tuple(units),
        )

    def named_documents(self, text: str) -> tuple[frozenset[str], str]:
        """Documents the question names, and the question without their names."""
        found: set[str] = set()
        for m in cues.DOC_REF_RE.finditer(text):
            ref = fold(m.group(1)).replace("的", "")
            for start in range(0, len(ref) - cues.DOC_REF_MIN + 1):
                tail = ref[start:]
                hits = {d for d, names in self._titles.items() if any(_in_order(tail, n) for n in names)}
                if hits:
                    if len(hits) <= 2:  # a name that fits every document names none
                        found |= hits
                        text = text.replace(m.group(0), " ")
                    break
        return frozenset(found), text

    def _scope(self, text: str) -> tuple[Scope, str]:
        """Places, document scope names, the whole country and years; the text with them taken out."""
        documents, text = self.named_documents(text)
        places = tuple(self.lexicon.gazetteer.find(text))
        for place in places:
            text = text.replace(place.text, " ")
        aliases: list[tuple[str, str]] = []  # after the gazetteer: 黔东南州 is one place, not 黔东南 + 州
        if self._alias_re:
            for m in self._alias_re.finditer(text):
                aliases.extend((a, d) for a, d in self._aliases if a == m.group())
            text = self._alias_re.sub(" ", text)
        national = bool(cues.NATIONAL_RE.search(text))
        text = cues.NATIONAL_RE.sub(" ", text)
        years = tuple(dict.fromkeys(YEAR_RE.findall(normalize(text))))
        relative = tuple(dict.fromkeys((m.group(), cues.RELATIVE_YEARS[m.group()])
                                       for m in cues.RELATIVE_YEAR_RE.finditer(text)))
        text = cues.RELATIVE_YEAR_RE.sub(" ", text)
        return Scope(places, tuple(aliases), national, years, relative, documents), text

    def _story_words(self, asked: str) -> set[str]:
        """Words of the personal story in front of the question that the question itself does not repeat."""
        story = cues.story(asked)
        if not story:
            return set()
        rest = asked[len(story):] if asked.startswith(story) else asked
        return set(self.tokenizer.tokens(story)) - set(self.tokenizer.tokens(rest))

    def _terms(self, text: str, story: set[str]) -> tuple[list[Term], list[str]]:
        words: list[tuple[str, str, bool, float]] = []  # (word, tag, noun, weight), in question order
        units: list[str] = []
        seen: set[str] = set()
        for word, tag in self.tokenizer.tagged(text):
            if word in seen or self.tokenizer.is_stopword(word) or re.fullmatch(r"[\d.]+|年", word):
                continue
            seen.add(word)
            if tag == "q" and len(word) == 1:
                units.append(word)
                continue
            if word in cues.TARGET_WORDS or word in cues.LIGHT_WORDS:
                continue
            known = self.index.known(word)
            noun = tag[:1] in ("n", "l") or tag in ("vn", "x", "eng") or (not known and tag[:1] not in ("v", "d", "a"))
            weight = self._weight(word, known, self._parts(word)) * (1.0 if noun else W.predicate_share)
            if word in story and not known:
                weight *= W.story_share
            words.append((word, tag, noun, weight))
        if len(words) > W.max_terms:
            # a question's subject is in its heaviest words; the rest of a very long one is not read further
            # (each word's soft evidence costs pinyin and thesaurus look-ups)
            keep = set(sorted(range(len(words)), key=lambda k: -words[k][3])[: W.max_terms])
            words = [w for k, w in enumerate(words) if k in keep]
        return [self._term(*w) for w in words], units

    def _parts(self, word: str) -> tuple[str, ...]:
        return tuple(p for p in self.tokenizer.tokens(word) if p != word and len(p) > 1)

    def _term(self, word: str, tag: str, noun: bool, weight: float) -> Term:
        index = self.index
        known = index.known(word)
        forms = [word]
        for other in self._expansions.get(word, ()):
            forms.append(other)
        if NUMERAL_RE.search(word):
            forms.append(arabic(word))
        sounds: tuple[str, ...] = ()
        synonyms: tuple[str, ...] = ()
        abbrev = None
        bigrams: tuple[str, ...] = ()
        if not known and len(word) > 1:
            sounds = self._sound_alikes(word)
            if tag.startswith("n"):
                synonyms = tuple(sorted(self.lexicon.thesaurus.synonyms(word, keep=index.known)))
            if len(word) >= 3:
                abbrev = re.compile(".{0,2}".join(map(re.escape, word)))
                bigrams = tuple(word[i : i + 2] for i in range(len(word) - 1))
        return Term(word, weight, known, tuple(dict.fromkeys(forms)), self._parts(word), sounds, synonyms, abbrev,
                    bigrams, noun, tag)

    def _compound_weight(self, a: Term, b: Term) -> float:
        compound = a.word + b.word
        if self.index.known(compound):
            return self.index.weight(compound)
        unknown = b if a.known else a
        if a.known != b.known and not (unknown.sounds or unknown.synonyms) and general_idf(unknown.word) is not None:
            # a corpus word joined to a real word the corpus never uses names something else (量子 + 计算机);
            # a typo (保户) or a word it knows by another name is not that
            return self.index.weight_unseen
        return self.index.weight_unseen * W.compound_share

    def _sound_alikes(self, word: str) -> tuple[str, ...]:
        """Corpus words that sound like a non-word of the question or a non-word piece of it (a typo)."""
        out: list[str] = []
        spans = [word] if len(word) <= 2 else [word[i:j] for i in range(len(word)) for j in
                                                 range(i + 2, min(len(word), i + 4) + 1)]
        for piece in spans:
            if general_idf(piece) is None and not self.index.known(piece):
                out.extend(s for s in self.sounds.same_sound(piece) if s != piece)
        return tuple(dict.fromkeys(out))

    def _weight(self, word: str, known: bool, parts: tuple[str, ...]) -> float:
        index = self.index
        if known:
            return index.weight(word) * W.known_share(general_idf(word))
        if parts and all(index.known(p) for p in parts):
            return max(index.weight(p) * W.known_share(general_idf(p)) for p in parts)
        # a word the corpus never uses: by how rare it is in general Chinese. A common word (时候, 城里)
        # says little about the subject; a rare one (护照, 双色球) says the question is about something else.
        general = general_idf(word)
        share = W.non_word_share if general is None else W.general_share(general)
        return index.weight_unseen * share


def _in_order(short: str, title: str) -> bool:
    """The characters of a short name stand in order in a title (提振消费方案 ~ 提振消费专项行动方案)."""
    it = iter(title)
    return all(ch in it for ch in short)


def place_names(place: Place) -> frozenset[str]:
    """Every name a place mention can go by: as written, and each region's full and short names."""
    names = {place.text}
    for region in place.regions:
        names.update((region.name, region.short))
    return frozenset(n for n in names if len(n) > 1)


def found(term: Term, text: str) -> float:
    """The credit a folded passage text gives a term: 1 for the word itself, less for softer evidence."""
    for form in term.forms:
        if form in text:
            return 1.0
    if not term.soft:
        return 0.0
    best = W.parts if term.parts and all(p in text for p in term.parts) else 0.0
    if best < W.sound and any(s in text for s in term.sounds):
        best = W.sound
    word = term.word
    if best < W.abbrev and term.abbrev is not None and word[0] in text and word[-1] in text \
            and term.abbrev.search(text):
        best = W.abbrev
    if best < W.thesaurus and any(s in text for s in term.synonyms):
        best = W.thesaurus
    if best < W.bigram and term.bigrams:
        share = sum(b in text for b in term.bigrams) / len(term.bigrams)
        if share >= 0.5:
            best = max(best, W.bigram * share)
    return best



def subject_span(query: Query) -> tuple[int, int]:
    """Where the question's subject stands: the run of subject words around its heaviest one."""
    text = query.asked
    words = [t for t in query.terms if t.weight > 0 and t.word not in cues.PREDICATE_WORDS and t.word in text]
    nouns = [t for t in words if t.noun]
    if not nouns:
        return 0, 0
    heaviest = max(nouns, key=lambda t: t.weight)
    start = text.find(heaviest.word)
    end = start + len(heaviest.word)
    # the subject's run: nouns and the verbs inside a name (保护 in 永久基本农田保护红线管理办法)
    names = sorted((t.word for t in words if t.noun or t.tag[:1] == "v"), key=len, reverse=True)
    grown = True
    while grown:
        grown = False
        for w in names:
            for gap in ("", "的", "和", "与", "、"):
                if text[:start].endswith(w + gap):
                    start -= len(w + gap)
                    grown = True
                    break
                if text[end:].startswith(gap + w):
                    end += len(gap + w)
                    grown = True
                    break
            if grown:
                break
    return start, end
