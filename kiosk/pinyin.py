"""Pinyin initials for search as you type at reception.

A surname is read as a surname (单 shàn -> "s", 曾 zēng -> "z") but its other readings are kept
too, because reception staff type what they hear and some say "dan". Given names use their
main reading only, so the number of keys stays small. Middle dots (少数民族 names such as
阿依古丽·买买提) and other non-Han characters are skipped.
"""

from __future__ import annotations

import functools

# Surname readings that differ from the character's most common reading.
SURNAME_INITIALS: dict[str, str] = {
    "单": "s",
    "曾": "z",
    "解": "x",
    "区": "o",
    "仇": "q",
    "查": "z",
    "朴": "p",
    "盖": "g",
    "乐": "y",
    "覃": "q",
    "尉": "w",
    "缪": "m",
    "黑": "h",
    "长": "c",
    "员": "y",
    "秘": "b",
    "种": "c",
}
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "oy",
    "司马": "sm",
    "上官": "sg",
    "诸葛": "zg",
    "尉迟": "yc",
    "万俟": "mq",
    "长孙": "zs",
    "皇甫": "hf",
    "司徒": "st",
    "令狐": "lh",
    "慕容": "mr",
    "公孙": "gs",
    "夏侯": "xh",
    "东方": "df",
    "端木": "dm",
    "澹台": "tt",
    # The other compound surnames of the 百家姓 still in use, with their surname readings.
    # Left out: 单于, 第五, 百里, 东门, 南门, 公西, whose first character is itself a common
    # surname far more often than the compound is (单于明 is 单 Yuming).
    "闻人": "wr",
    "赫连": "hl",
    "公羊": "gy",
    "公冶": "gy",
    "宗政": "zz",
    "濮阳": "py",
    "淳于": "cy",
    "太叔": "ts",
    "申屠": "st",
    "仲孙": "zs",
    "轩辕": "xy",
    "钟离": "zl",
    "宇文": "yw",
    "鲜于": "xy",
    "闾丘": "lq",
    "司空": "sk",
    "亓官": "qg",
    "司寇": "sk",
    "颛孙": "zs",
    "巫马": "wm",
    "漆雕": "qd",
    "乐正": "yz",
    "拓跋": "tb",
    "呼延": "hy",
    "羊舌": "ys",
    "南宫": "ng",
    "西门": "xm",
    "左丘": "zq",
    "梁丘": "lq",
    "公良": "gl",
    "谷梁": "gl",
    "段干": "dg",
    "东郭": "dg",
}
_MAX_KEYS = 8


def is_han(char: str) -> bool:
    """A CJK ideograph of any block: the BMP ones, compatibility ideographs and Extensions
    B–H beyond U+FFFF (a name such as 赵孟𫖯 or 𬌗 holds one)."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x323AF
    )


@functools.lru_cache(maxsize=30_000)
def _first_letters(char: str) -> tuple[str, ...]:
    # pypinyin loads its dictionaries on import (about half a second): only key generation
    # needs it, never searching, so it is imported on first use. Cached: an import of
    # 200,000 invitees asks for the same few thousand characters again and again.
    from pypinyin import Style, pinyin

    letters = pinyin(char, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
    return tuple(dict.fromkeys(letters[0])) if letters else ()


@functools.lru_cache(maxsize=200_000)
def _given_key(given: str) -> str:
    """The initials of a given name (read as a phrase: pypinyin knows words); cached."""
    from pypinyin import lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(given, errors="ignore") if p)


def surname(name: str) -> str:
    """The family name: the first two characters for a compound surname (欧阳娜娜 -> 欧阳),
    else the first (a whole character, even beyond the BMP: 𬌗明 -> 𬌗)."""
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def name_initials(name: str) -> list[str]:
    """Every key a person might type for ``name``, the surname reading first."""
    return list(_name_initials(name))


@functools.lru_cache(maxsize=8192)
def _name_initials(name: str) -> tuple[str, ...]:
    """Cached: an import asks twice per invitee, within one batch of 2,000 rows (the stored
    key, then the search keys), and real lists repeat names."""
    han = "".join(c for c in name if is_han(c))
    if not han:
        return (name.lower(),) if name.isascii() and name.isalpha() else ()
    if han[:2] in COMPOUND_SURNAMES:
        surname_keys, given = [COMPOUND_SURNAMES[han[:2]]], han[2:]
    else:
        first = han[0]
        readings = _first_letters(first)
        preferred = SURNAME_INITIALS.get(first)
        surname_keys = [preferred, *readings] if preferred else list(readings)
        surname_keys = list(dict.fromkeys(k for k in surname_keys if k))
        given = han[1:]
    given_key = _given_key(given)
    keys = [s + given_key for s in surname_keys] or [given_key]
    return tuple(dict.fromkeys(keys))[:_MAX_KEYS]


INITIALS_MAX = 200  # Customer.name_initials is VARCHAR(200) (tests/unit/kiosk/test_lengths.py)


def initials_key(name: str) -> str:
    """The stored search key: the initials joined with "|" (see ``Customer.name_initials``).

    Whole keys only, as many as fit the column: a long name with several surname readings
    would otherwise overflow it (PostgreSQL refuses the import; SQLite kept it)."""
    kept: list[str] = []
    for key in name_initials(name):
        if len("|".join([*kept, key])) > INITIALS_MAX:
            break
        kept.append(key)
    return "|".join(kept)
