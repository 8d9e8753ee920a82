"""The shortcuts an import takes for plain cells give what the character-by-character path
gives: printable ASCII and the common ideographs need no cleaning and are all displayable."""

from __future__ import annotations

from kiosk.gb18030 import NOT_PLAIN, PLAIN_IDEOGRAPHS_END, undisplayable
from kiosk.imports.cells import clean

PLAIN = "".join(map(chr, range(0x20, 0x7F))) + "".join(
    map(chr, range(0x4E00, PLAIN_IDEOGRAPHS_END))
)


def test_the_plain_characters_are_what_the_shortcut_lets_through() -> None:
    assert NOT_PLAIN.search(PLAIN) is None
    assert PLAIN_IDEOGRAPHS_END > 0x9FA5  # at least the GB 2312 / GBK ideographs
    for char in "\t\n\u200b\u3000（１٣\ue000\U00020087é":
        assert NOT_PLAIN.search(char) is not None


def test_the_slow_path_leaves_every_plain_character_alone() -> None:
    # "é" is not plain, so these go character by character, as before the shortcut.
    text = "é" + PLAIN
    assert clean(text) == (text, ())
    assert clean(text, fold=False) == (text, ())
    assert undisplayable(text) == []


def test_what_is_not_plain_is_still_cleaned() -> None:
    assert clean("王\u200b小明") == ("王小明", ("invisible",))
    assert clean("１３８") == ("138", ("width",))
    assert undisplayable("王\ue000") == ["\ue000"]
