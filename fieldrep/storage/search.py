"""Dealer search: Chinese substrings, pinyin and phone digits over one FTS5 index.

How it works (the schema is made by migration 0002):

- ``search_doc`` holds one *document* per live dealer: the searchable text of the
  dealer and of its live contacts, prepared by :func:`column_text`. The FTS5 table
  ``search_fts`` indexes it (external content, so the text is stored once).
- Chinese text is indexed one character per token (``海信`` becomes ``海 信``), so
  the phrase query ``"海 信"`` finds the substring ``海信`` anywhere and at any
  length, one character included. Latin words and digit runs stay whole tokens
  and are searched by prefix.
- Pinyin: for the name and short name, every *suffix* of the syllable sequence is
  indexed twice, spelled out and as initials (``haixindianqi xindianqi dianqi qi``
  and ``hxdq xdq dq q``), so the prefix queries ``haixin*``, ``xindian*`` and
  ``hxdq*`` all find 海信电器: a query matches where any syllable starts, never in
  the middle of one. Heteronyms get a few alternative readings (单县 is indexed
  as ``danxian`` and ``shanxian``); phrases use pypinyin's dictionary
  (重庆 ``chongqing``, 长安 ``changan``). The legal form (有限公司 ...) gets no
  pinyin suffixes: nobody types it. Contact names, the legal representative, city
  and district are indexed as whole-word pinyin (``zhangwei``, ``zw``).
- Phone numbers: all digits, the national number (no +86, no trunk 0), the digits
  from each written group on, the last 4 and 8 digits (and 7 for a landline), so
  a number is found by its start, its local part or its tail (尾号) however it was
  written (:func:`phone_words`).
- Ranking in tiers: dealers whose name or short name *starts* with the first term
  (the ``head`` column holds both names as single tokens), then dealers with a
  term in their name or short name (text or pinyin), then the rest; BM25 with
  column weights orders each tier (name above contacts and phones above address
  above notes). Two FTS queries at most: prefix hits, then all hits.
- Freshness: triggers on ``dealer`` and ``contact`` (names ``search_*``) ask the
  ``search_refresh`` view to recompute the dealer's document on every write, raw
  SQL and rows applied by sync included; tombstoned dealers and contacts drop out.
  The triggers call the SQL function ``fr_search_column``, registered here on
  every connection FieldRep opens (:func:`install_functions` for a bare sqlite3
  connection). :mod:`fieldrep.storage.db` imports this module before it makes an
  engine, so the function exists before any write.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage import derived
from fieldrep.storage.db import register_connect_hook
from fieldrep.storage.errors import FieldProblem, ValidationError

log = logging.getLogger("fieldrep.storage")

# Columns of search_fts in schema order, with their BM25 weights. ``head`` holds the
# whole name and short name as single tokens: a hit there is a prefix hit.
COLUMN_WEIGHTS: dict[str, float] = {
    "head": 40.0,
    "name": 12.0,
    "name_py": 10.0,
    "place": 2.0,
    "people": 4.0,
    "other_py": 2.0,
    "phone": 4.0,
    "notes": 1.0,
    "scope": 0.0,  # the territory, for filtering only
}
DOCUMENT_COLUMNS = tuple(COLUMN_WEIGHTS)
NAME_COLUMNS = ("head", "name", "name_py")  # the name and short name, text and pinyin

# Stands between two values in one column so that a phrase never runs from the end
# of one value into the next. The FTS tokenizer keeps it as a token (tokenchars);
# queries can never contain it.
VALUE_BREAK = "\ue000"
# Separates several values packed into one SQL argument (group_concat of contacts).
VALUE_SEPARATOR = "\x1f"

# Characters indexed one per token: Han (with the extensions), kana, bopomofo,
# hangul syllables.
_CJK_CLASS = (
    "\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
# A CJK character, or a run of anything else that is not a space.
_SPACED_PIECE = re.compile(f"[{_CJK_CLASS}]|[^\\s{_CJK_CLASS}]+")
_HAN_CHAR = re.compile("[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# A token as the FTS tokenizer sees it: letters and digits; the underscore and
# everything else separate tokens.
_WORD = re.compile(r"[^\W_]+")
# A written phone number: digits with the usual separators between them.
_PHONE_RUN = re.compile(r"\d(?:[\d\s\-().+]*\d)?")
_DIGITS = re.compile(r"\d+")
_MOBILE_START = re.compile("1[3-9]")
# The legal form at the end of a company name, left out of the pinyin suffixes.
_LEGAL_FORM = re.compile("(股份有限公司|有限责任公司|有限公司)$")
_PINYIN_QUERY_FOLD = str.maketrans({"'": None, "\u2019": None, "ü": "v"})
_PHONE_QUERY = re.compile(r"\+?[\d\-().]*\d[\d\-().]*")

MIN_PHONE_SUFFIX = 4  # shortest indexed digit tail of a phone number
MIN_PHONE_DIGITS = 5  # shorter digit runs are ordinary numbers, not phones
# Tails of a number indexed as words: the last four digits (尾号), a mobile as
# read in groups of 3-4-4, a landline's local number without its area code.
MOBILE_TAILS = (4, 8)
LANDLINE_TAILS = (4, 7, 8)
MAX_PHONE_DIGITS = 24
NATIONAL_DIGITS = 10  # a national number after +86 has at least this many digits
MAX_PINYIN_CHARS = 32  # names longer than this are indexed in pinyin up to here
MAX_READING_VARIANTS = 4  # primary reading plus alternative heteronym readings
PER_CHARACTER_LENGTH = 3  # values this short are read one character at a time
MAX_QUERY_TERMS = 12


# --------------------------------------------------------------------------- text


def normalize(value: str) -> str:
    """Fold full-width forms and compatibility characters (ＴＣＬ１２３ -> tcl123), lower case."""
    if value.isascii():
        return value.lower()
    return unicodedata.normalize("NFKC", value).lower()


def _values(arguments: Iterable[object]) -> list[str]:
    """Non-empty normalized values from SQL arguments (None skipped, packed lists split)."""
    found: list[str] = []
    for argument in arguments:
        if argument is None:
            continue
        if isinstance(argument, bytes):
            argument = argument.decode("utf-8", "replace")
        packed = normalize(argument if isinstance(argument, str) else str(argument))
        if VALUE_BREAK in packed:
            packed = packed.replace(VALUE_BREAK, " ")
        if VALUE_SEPARATOR in packed:
            found.extend(value for value in packed.split(VALUE_SEPARATOR) if value.strip())
        elif packed.strip():
            found.append(packed)
    return found


def spaced(value: str) -> str:
    """Put a space between CJK characters so that each one is a token of its own."""
    return " ".join(_SPACED_PIECE.findall(value))


def _join(parts: Iterable[str]) -> str:
    return f" {VALUE_BREAK} ".join(part for part in parts if part)


def compact(value: str) -> str:
    """The value as one token: letters, digits and CJK characters only."""
    return "".join(_WORD.findall(value))


# Readings people use for common polyphones in family and place names, when the
# character stands alone (pypinyin's phrase dictionary already places 重庆, 长安,
# 厦门, 成都 ...). Each alternative is indexed besides pypinyin's first choice, so a
# rep finds 曾 under zeng and ceng, 单 under shan and dan.
COMMON_READINGS: dict[str, tuple[str, ...]] = {
    "长": ("chang", "zhang"),
    "重": ("zhong", "chong"),
    "行": ("xing", "hang"),
    "乐": ("le", "yue"),
    "单": ("dan", "shan"),
    "曾": ("zeng", "ceng"),
    "朝": ("chao", "zhao"),
    "厦": ("xia", "sha"),
    "会": ("hui", "kuai"),
    "解": ("jie", "xie"),
    "查": ("cha", "zha"),
    "仇": ("chou", "qiu"),
    "区": ("qu", "ou"),
    "朴": ("pu", "piao"),
    "盖": ("gai", "ge"),
    "缪": ("miao", "miu", "mou"),
    "翟": ("zhai", "di"),
    "覃": ("qin", "tan"),
    "种": ("zhong", "chong"),
    "召": ("zhao", "shao"),
    "藏": ("cang", "zang"),
    "都": ("du", "dou"),
    "六": ("liu", "lu"),
    "蚌": ("beng", "bang"),
    "调": ("diao", "tiao"),
    "传": ("chuan", "zhuan"),
    "还": ("hai", "huan"),
    "尉": ("wei", "yu"),
    "莘": ("shen", "xin"),
    "铅": ("qian", "yan"),
    "番": ("fan", "pan"),
    "堡": ("bao", "pu", "bu"),
    "涌": ("yong", "chong"),
    "浒": ("hu", "xu"),
    "柏": ("bai", "bo"),
    "薄": ("bao", "bo"),
    "佛": ("fo", "fu"),
    "大": ("da", "dai"),
    "和": ("he", "huo"),
    "角": ("jiao", "jue"),
}


@lru_cache(maxsize=8192)
def _segment_readings(segment: str) -> tuple[tuple[str, ...], ...]:
    """Readings of each character of one segment, pypinyin's choice first."""
    # pypinyin loads its dictionaries on import (a fifth of a second): imported on
    # the first reading, not when the database opens.
    from pypinyin import Style, pinyin

    chosen = [options[0] for options in pinyin(segment, style=Style.NORMAL, strict=False)]
    if len(segment) != 1:
        return tuple((reading,) for reading in chosen if reading.isascii())
    others = COMMON_READINGS.get(segment, ())
    if not chosen[0].isascii():
        return ()
    return ((chosen[0], *(reading for reading in others if reading != chosen[0])),)


def _readings(value: str) -> tuple[tuple[str, ...], ...]:
    """The readings of each Han character of ``value``, the likeliest first.

    Segments are cut and read by pypinyin, so phrases read in context (重庆 chong
    qing).
    """
    from pypinyin.seg.simpleseg import seg  # imported late: see _segment_readings

    han = "".join(_HAN_CHAR.findall(value))[:MAX_PINYIN_CHARS]
    readings: list[tuple[str, ...]] = []
    # Personal names (two or three characters) are read character by character:
    # the phrase dictionary knows words, not names, and the alternatives of
    # COMMON_READINGS cover family names such as 曾 and 单.
    for segment in han if len(han) <= PER_CHARACTER_LENGTH else seg(han):
        readings.extend(_segment_readings(segment))
    return tuple(readings)


@lru_cache(maxsize=16384)
def reading_variants(value: str) -> tuple[tuple[str, ...], ...]:
    """Syllable sequences of the Han characters of ``value``: the likeliest reading,
    then single-character alternatives for common polyphones (at most
    ``MAX_READING_VARIANTS`` in all). Cached: a document reads its name twice."""
    readings = _readings(value)
    primary = tuple(options[0] for options in readings)
    if not primary:
        return ()
    variants = [primary]
    for position, options in enumerate(readings):
        for alternative in options[1:]:
            if len(variants) >= MAX_READING_VARIANTS:
                return tuple(variants)
            variants.append((*primary[:position], alternative, *primary[position + 1 :]))
    return tuple(variants)


@lru_cache(maxsize=4096)
def pinyin_words(value: str, *, suffixes: bool = False) -> tuple[str, ...]:
    """Full pinyin and initials of ``value``; with ``suffixes``, of every syllable
    suffix too (``haixindianqi xindianqi ... hxdq xdq ...``), leaving out the legal
    form (有限公司 ...) that every company name ends with and nobody types."""
    variants = reading_variants(value)
    if not variants:
        return ()
    if not suffixes:
        words = {"".join(syllables): None for syllables in variants}
        words.update({"".join(s[0] for s in syllables): None for syllables in variants})
        return tuple(words)
    legal_form = _LEGAL_FORM.search(value)
    if legal_form and len(legal_form.group(0)) < len(variants[0]) < MAX_PINYIN_CHARS:
        cut = len(variants[0]) - len(legal_form.group(0))
        variants = tuple(syllables[:cut] for syllables in variants)
    words = {}
    for syllables in variants:
        initials = "".join(syllable[0] for syllable in syllables)
        full = ""
        for start in range(len(syllables) - 1, -1, -1):
            full = syllables[start] + full
            words[full] = None
            words[initials[start:]] = None
    return tuple(words)


def _country_code_length(digits: str) -> int:
    """Length of a leading 86 or 0086 (China) before a full national number."""
    for code in ("0086", "86"):
        if digits.startswith(code) and len(digits) - len(code) >= NATIONAL_DIGITS:
            return len(code)
    return 0


def phone_words(value: str) -> tuple[str, ...]:
    """Index words for the phone numbers written in ``value``.

    For each number: all its digits, the national number (without +86 and the
    trunk 0; with a trunk 0 for a landline written with +86), the digits from
    each written group on (``0532-8888-1234`` gives ``88881234`` and ``1234``),
    and its tails (:data:`MOBILE_TAILS`, :data:`LANDLINE_TAILS`). Prefix queries
    then find a number by its start, its local part or its tail, however written.
    """
    words: dict[str, None] = {}
    for written in [value] if value.isdigit() else _PHONE_RUN.findall(value):
        groups = [written] if written.isdigit() else _DIGITS.findall(written)
        digits = "".join(groups)[:MAX_PHONE_DIGITS]
        length = len(digits)
        if length < MIN_PHONE_DIGITS:
            words[digits] = None
            continue
        # The national number: without the country code, without the trunk 0.
        national = _country_code_length(digits)
        if national and not _MOBILE_START.match(digits, national):
            words["0" + digits[national:]] = None  # +86 532 ... is dialled 0532 ...
        if digits[national] == "0":
            national += 1
        starts = [0, national]
        position = 0
        for group in groups[:-1]:
            position += len(group)
            starts.append(position)
        mobile = _MOBILE_START.match(digits, national)
        starts.extend(length - tail for tail in (MOBILE_TAILS if mobile else LANDLINE_TAILS))
        for start in sorted(starts):
            if 0 <= start <= length - MIN_PHONE_SUFFIX:
                words[digits[start:]] = None
    return tuple(words)


def _head(values: list[str]) -> str:
    words: dict[str, None] = {}
    for value in values:
        words[compact(value)] = None
        words.update(dict.fromkeys(pinyin_words(value)))
    words.pop("", None)
    return " ".join(words)


def _distinct(values: list[str]) -> list[str]:
    """The values that are not part of another value (city 青岛市 in the address
    青岛市市南区...): they would only add tokens that match nothing new."""
    unique = list(dict.fromkeys(values))
    return [v for v in unique if not any(other != v and v in other for other in unique)]


def _text(values: list[str]) -> str:
    return _join(spaced(value) for value in _distinct(values))


def _name_pinyin(values: list[str]) -> str:
    # Pinyin queries match by prefix, so the suffixes of a short name that is
    # part of the name (海信 in 青岛海信电器) are prefixes of the name's suffixes.
    words: dict[str, None] = {}
    for value in _distinct(values):
        words.update(dict.fromkeys(pinyin_words(value, suffixes=True)))
    return " ".join(words)


def _other_pinyin(values: list[str]) -> str:
    words: dict[str, None] = {}
    for value in values:
        words.update(dict.fromkeys(pinyin_words(value)))
    return " ".join(words)


def _phones(values: list[str]) -> str:
    words: dict[str, None] = {}
    for value in values:
        words.update(dict.fromkeys(phone_words(value)))
    return " ".join(words)


def _scope(values: list[str]) -> str:
    return " ".join(compact(value) for value in values)


_BUILDERS: dict[str, Callable[[list[str]], str]] = {
    "head": _head,
    "name": _text,
    "name_py": _name_pinyin,
    "place": _text,
    "people": _text,
    "other_py": _other_pinyin,
    "phone": _phones,
    "notes": _text,
    "scope": _scope,
}


def column_text(column: str, *values: object) -> str:
    """The indexed text of one document column made from its source values.

    This is the SQL function ``fr_search_column(column, value, ...)`` that the
    ``search_source`` view calls; values may pack several entries separated by
    ``char(31)`` (the contacts of a dealer).
    """
    builder = _BUILDERS.get(column)
    if builder is None:
        raise ValueError(f"unknown search column {column!r}")
    return builder(_values(values))


@dataclass(frozen=True)
class DealerSource:
    """The dealer and contact values a search document is made from."""

    name: str
    short_name: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    phone: str | None = None
    legal_rep: str | None = None
    notes: str | None = None
    territory_id: str | None = None
    contact_names: Sequence[str] = ()
    contact_phones: Sequence[str] = ()


def dealer_document(source: DealerSource) -> dict[str, str]:
    """Column name -> indexed text for one dealer: what the triggers store in search_doc."""
    names = VALUE_SEPARATOR.join(source.contact_names)
    phones = VALUE_SEPARATOR.join(source.contact_phones)
    return {
        "head": column_text("head", source.name, source.short_name),
        "name": column_text("name", source.name, source.short_name),
        "name_py": column_text("name_py", source.name, source.short_name),
        "place": column_text(
            "place", source.province, source.city, source.district, source.address
        ),
        "people": column_text("people", source.legal_rep, names),
        "other_py": column_text("other_py", source.city, source.district, source.legal_rep, names),
        "phone": column_text("phone", source.phone, phones),
        "notes": column_text("notes", source.notes),
        "scope": column_text("scope", source.territory_id),
    }


def _sql_column_text(column: object, *values: object) -> str:
    # Called by triggers inside the caller's write: a fault here must not refuse
    # the dealer or contact being saved. The column stays empty and is logged;
    # rebuild_index repairs it once the fault is fixed.
    try:
        return column_text(str(column), *values)
    except Exception:
        log.exception("search: cannot index column %s", column)
        return ""


def install_functions(connection: sqlite3.Connection) -> None:
    """Register the SQL functions the search triggers call on one sqlite3 connection."""
    connection.create_function("fr_search_column", -1, _sql_column_text, deterministic=True)


register_connect_hook(install_functions)


# -------------------------------------------------------------------------- query


@dataclass(frozen=True)
class _Term:
    """One whitespace-separated term of the user's text as FTS5 expressions."""

    anywhere: str  # matches the term in any column
    head: str  # matches the term at the start of the name or short name


def _phrase(tokens: Sequence[str], *, prefix: bool) -> str:
    # Tokens are runs of letters and digits (or one CJK character), so they never
    # hold a double quote: the phrase cannot break out of its quotes, and FTS5
    # operators (AND, OR, NOT, NEAR, *, ^, :) inside it are plain text.
    return '"' + " ".join(tokens) + '"' + (" *" if prefix else "")


def _parse_term(term: str) -> _Term | None:
    if _CJK_CHAR.search(term):
        tokens = _WORD.findall(spaced(term))
        if not tokens:
            return None
        # A trailing Latin word or number may be unfinished: match it by prefix.
        anywhere = _phrase(tokens, prefix=not _CJK_CHAR.fullmatch(tokens[-1]))
    elif _PHONE_QUERY.fullmatch(term):
        # Phone digits however written: 0532-8888 1234, (0532)88881234, +86 138...
        digits = re.sub(r"\D", "", term)
        tokens = [digits[_country_code_length(digits) :]]
        anywhere = _phrase(tokens, prefix=True)
    else:
        # Pinyin (haixin, hxdq), a word or a code. Pinyin apostrophes (xi'an)
        # separate syllables; the index spells syllables together, ü as v (lv).
        tokens = _WORD.findall(term.translate(_PINYIN_QUERY_FOLD))
        if not tokens:
            return None
        anywhere = _phrase(tokens, prefix=True)
    return _Term(anywhere, "{head} : " + _phrase(["".join(tokens)], prefix=True))


def _parse(query: str) -> list[_Term]:
    terms: list[str] = []
    for term in normalize(query).replace(VALUE_BREAK, " ").split():
        # Digits written in groups (139 1234 5678, +86 532 8888 1234) are one number.
        if terms and _PHONE_QUERY.fullmatch(term) and _PHONE_QUERY.fullmatch(terms[-1]):
            terms[-1] += term
        else:
            terms.append(term)
    parsed = [found for term in terms if (found := _parse_term(term))]
    return parsed[:MAX_QUERY_TERMS]


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH expression for the user's text, or None when nothing is searchable.

    Every term must match (AND); user text only ever appears inside quoted phrases.
    """
    terms = _parse(query)
    return " AND ".join(term.anywhere for term in terms) if terms else None


def _tiers(terms: list[_Term]) -> list[str]:
    """The two queries of a search: the first term starts the name or short name
    (prefix hits), then every match (name hits are told apart by their score)."""
    everywhere = " AND ".join(term.anywhere for term in terms)
    prefix = " AND ".join([terms[0].head, *(term.anywhere for term in terms[1:])])
    return [prefix, everywhere]


@dataclass(frozen=True)
class SearchHit:
    """One dealer found by :func:`search_dealers`; a higher score ranks higher."""

    dealer_id: str
    name: str
    city: str | None
    score: float


# A hit's score is its BM25 relevance (0 to a few thousand) plus this much for
# each tier it is above the last: prefix hits score above 2e6, name hits above 1e6.
TIER_SCORE = 1_000_000.0

_BM25 = "bm25(search_fts, {})".format(", ".join(str(w) for w in COLUMN_WEIGHTS.values()))
# BM25 over the name columns only: below zero exactly when a term is in the name.
_NAME_BM25 = "bm25(search_fts, {})".format(
    ", ".join("1" if column in NAME_COLUMNS else "0" for column in COLUMN_WEIGHTS)
)
# BM25 costs about a microsecond per matching row; a query with more matches than
# RANK_WINDOW (one letter, one character, 有限公司) ranks only its most recently
# indexed RANK_WINDOW rows, which keeps every search within a few milliseconds.
RANK_WINDOW = 2000
_RANK_SQL = f"""
SELECT docid, score, name_hit FROM (
    SELECT search_fts.rowid AS docid, {_BM25} AS score, {_NAME_BM25} < 0 AS name_hit
    FROM search_fts
    WHERE search_fts MATCH :expression
    ORDER BY search_fts.rowid DESC
    LIMIT {RANK_WINDOW}
)
ORDER BY name_hit DESC, score
LIMIT :limit
"""
# CROSS JOIN keeps search_doc the outer loop: without it, SQLite (no ANALYZE
# statistics) may walk every live dealer through an index on dealer.deleted.
# The docids come as one JSON array: up to 2,000 of them on every keystroke, which
# as separate parameters cost more to bind than the lookup itself.
_DEALERS_SQL = (
    "SELECT doc.docid, d.id, d.name, d.city FROM search_doc AS doc "
    "CROSS JOIN dealer AS d ON d.id = doc.dealer_id "
    "WHERE doc.docid IN (SELECT value FROM json_each(?)) AND d.deleted = 0"
)


def search_dealers(
    session: Session,
    query: str,
    limit: int = 50,
    *,
    territory_ids: Sequence[str] | None = None,
    matches: int | None = None,
) -> list[SearchHit]:
    """Live dealers matching every term of ``query``, best first.

    A term is a Chinese substring (any length), pinyin (full or initials, from the
    start of any syllable of the name), a word or code prefix, or phone digits.
    Dealers whose name or short name starts with the first term come first, then
    those with a term in their name, then the rest; BM25 orders each group (for a
    query with more than ``RANK_WINDOW`` matches, among the most recently indexed).
    The score grows with the rank: prefix hits score above 2e6, name hits above 1e6.
    ``territory_ids`` limits the search to those territories (None: all).
    ``matches``, when the caller counted them, is how many documents match the
    whole query: once that many are ranked, the later tiers can add nothing.
    """
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    ranked = rank_documents(raw, query, limit, territory_ids=territory_ids, matches=matches)
    hits = document_dealers(raw, ranked)
    hits.sort(key=hit_order)
    return hits


def rank_documents(
    raw: sqlite3.Connection,
    query: str,
    limit: int,
    *,
    territory_ids: Sequence[str] | None = None,
    matches: int | None = None,
) -> dict[int, float]:
    """The scores of the best ``limit`` documents matching ``query``, by docid.

    The ranking half of :func:`search_dealers` (same arguments): FTS only, no
    dealer row is read, so a caller that needs only the best few dealers looks
    up those alone (:func:`document_dealers`).
    """
    if limit < 1:
        raise ValidationError(
            [FieldProblem("limit", N_("Limit"), N_("must be at least {minimum}"), {"minimum": 1})],
            "search",
        )
    terms = _parse(query)
    if not terms or (territory_ids is not None and not territory_ids):
        return {}
    tiers = _tiers(terms)
    if territory_ids is not None:
        # The territory is a token of the scope column: FTS5 intersects it with
        # the match, so a filter makes a search cheaper, not dearer.
        scopes = " OR ".join(
            _phrase([compact(normalize(t)) or "-"], prefix=False) for t in territory_ids
        )
        tiers = [f"({{scope}} : ({scopes})) AND ({tier})" for tier in tiers]
    # Each tier is asked only for what the better tiers left to fill, so a short,
    # common query (one letter, one syllable) ranks a few hundred prefix hits
    # instead of every dealer that contains it.
    ranked: dict[int, float] = {}
    for first, expression in zip((True, False), tiers, strict=True):
        rows = raw.execute(
            _RANK_SQL, {"expression": expression, "limit": limit + len(ranked)}
        ).fetchall()
        for docid, bm25, name_hit in rows:
            if len(ranked) >= limit:
                break
            tier_bonus = 2 if first else 1 if name_hit else 0
            ranked.setdefault(int(docid), tier_bonus * TIER_SCORE - float(bm25))
        if len(ranked) >= min(limit, matches if matches is not None else limit):
            break
    return ranked


def document_dealers(raw: sqlite3.Connection, scores: dict[int, float]) -> list[SearchHit]:
    """The live dealers of the given documents with their scores, in no order
    (sort with :func:`hit_order`); documents of no live dealer are left out."""
    if not scores:
        return []
    dealers = raw.execute(_DEALERS_SQL, (json.dumps(list(scores)),)).fetchall()
    return [SearchHit(str(row[1]), str(row[2]), row[3], scores[int(row[0])]) for row in dealers]


def hit_order(hit: SearchHit) -> tuple[float, str, str]:
    """Sort key of hits, best first: score, then name and id for equal scores."""
    return (-hit.score, hit.name, hit.dealer_id)


# ------------------------------------------------------------------------ rebuild

_COLUMN_LIST = ", ".join(DOCUMENT_COLUMNS)


def rebuild_index(connection: Connection) -> None:
    """Recompute every dealer's document and the FTS index in one pass.

    Runs in the caller's transaction; the documents come from the
    ``search_source`` view, the same SQL the triggers use for a single dealer.
    """
    driver = connection.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        install_functions(driver)
    connection.exec_driver_sql("DELETE FROM search_doc")
    connection.exec_driver_sql(
        f"INSERT INTO search_doc (dealer_id, {_COLUMN_LIST}) "
        f"SELECT dealer_id, {_COLUMN_LIST} FROM search_source"
    )
    connection.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    log.info("search index rebuilt")


derived.register(derived.DerivedData("search", "search_", rebuild_index))
