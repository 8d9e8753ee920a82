"""Money in yuan for the merchant settlement: exact amounts in fen, never floats.

The bank pays a merchant either a rate per point redeemed (``Merchant.rate_micro``, in
millionths of a yuan: 0.008 yuan per point is 8000) or a price per unit of a service
(``Offer.price_fen``). Amounts are whole fen (int) all the way to the paper; a rate times
points is rounded once, half up to the fen (``points_amount_fen``), so a statement's total
is the sum of the figures it prints. The amount in words (``capital_amount``) follows the
People's Bank rules for writing amounts on payment documents (人民币大写).
"""

from __future__ import annotations

from decimal import Decimal

MICRO_PER_FEN = 10_000  # a rate in millionths of a yuan, times points, over this is fen


def points_amount_fen(points: int, rate_micro: int) -> int:
    """``points`` × ``rate_micro`` millionths of a yuan, in fen rounded half up: 0.5 fen and
    more is one fen more (125 points at 0.0004 yuan = 5.0 fen; 1 point at 0.00005 yuan =
    0.5 fen → 1 fen). Integer arithmetic: exact for any size."""
    if points < 0 or rate_micro < 0:
        raise ValueError("points and rate cannot be negative")
    whole, rest = divmod(points * rate_micro, MICRO_PER_FEN)
    return whole + (1 if 2 * rest >= MICRO_PER_FEN else 0)


def format_yuan(fen: int) -> str:
    """¥1,234.56: the yuan sign, thousands separators, always two decimals."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def format_rate(rate_micro: int) -> str:
    """A rate per point as written in the catalog: 0.008, 0.0125 (no trailing zeros)."""
    text = f"{Decimal(rate_micro).scaleb(-6):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_micro_of(value: Decimal) -> int:
    """Yuan per point (at most 6 decimals) in millionths; ValueError when finer."""
    micro = value.scaleb(6)
    if micro != micro.to_integral_value():
        raise ValueError("more than 6 decimals")
    return int(micro)


def fen_of(value: Decimal) -> int:
    """Yuan (at most 2 decimals) in fen; ValueError when finer."""
    fen = value.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError("more than 2 decimals")
    return int(fen)


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿")
CAPITAL_LIMIT_FEN = 10**12 * 100  # 万亿 yuan: far beyond any settlement


def _capital_integer(yuan: int) -> str:
    """Whole yuan in capitals: one 零 for any run of zeros between figures (陆仟零柒,
    壹亿零壹万, 壹佰万零壹), none at the end of a group, ``拾`` always with its 壹 (壹拾)."""
    digits = str(yuan)
    length = len(digits)
    out: list[str] = []
    zero = False
    for index, char in enumerate(digits):
        position = length - 1 - index
        digit = int(char)
        if digit == 0:
            zero = True
        else:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_DIGITS[digit] + _SMALL[position % 4])
        if position % 4 == 0 and position > 0 and int(digits[max(0, index - 3) : index + 1]):
            out.append(_GROUPS[position // 4])
    return "".join(out)


def capital_amount(fen: int) -> str:
    """An amount in fen as the bank writes it in words (人民币大写), without the 人民币
    prefix the form prints before it.

    The rules (中国人民银行《正确填写票据和结算凭证的基本规定》): 整 after 元 when there
    are no 角 or 分, and after 角 when there is no 分 (allowed, and it leaves no room to
    add one); never after 分. A zero between figures is one 零, zeros ending the yuan are
    not written (壹仟陆佰捌拾元叁角贰分: the rules allow with or without 零 there); 角
    zero with 分 not zero writes 零 after 元 (叁佰贰拾伍元零肆分); zeros across a 万 or 亿
    write their 零 too (壹拾万零柒仟元伍角叁分, the rules' second spelling of 107,000.53).
    Below one yuan only the 角 and 分 (伍分); nothing at all is 零元整.
    """
    if fen < 0:
        raise ValueError("an amount in words is never negative")
    if fen >= CAPITAL_LIMIT_FEN:
        raise ValueError("amount too large")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    words = _capital_integer(yuan) + "元" if yuan else ""
    if not cents:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_digit:
        return words + _DIGITS[fen_digit] + "分"
    return words + "整"
