"""Small domain rules: pinyin keys, ID numbers and masking, roles to stations."""

from __future__ import annotations

import pytest

from kiosk.idcard import (
    birth_date,
    check_digit,
    gender,
    is_valid_mobile,
    is_valid_resident_id,
)
from kiosk.masking import mask_address, mask_id, mask_name, mask_phone, masked_is_mobile
from kiosk.models import Role
from kiosk.pinyin import initials_key, name_initials
from kiosk.roles import Station, allowed_stations


@pytest.mark.parametrize(
    ("name", "first", "others"),
    [
        ("张三", "zs", []),
        ("单田芳", "stf", ["dtf"]),
        ("曾国藩", "zgf", ["cgf"]),
        ("解缙", "xj", ["jj"]),
        ("区志强", "ozq", ["qzq"]),
        ("仇英", "qy", ["cy"]),
        ("查良镛", "zly", ["cly"]),
        ("欧阳修", "oyx", []),
        ("阿依古丽·买买提", "ayglmmt", []),
    ],
)
def test_pinyin_initials(name: str, first: str, others: list[str]) -> None:
    keys = name_initials(name)
    assert keys[0] == first
    for key in others:
        assert key in keys
    assert initials_key(name).split("|") == keys


def test_resident_id_checksum() -> None:
    assert check_digit("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")
    assert is_valid_resident_id("11010519491231002x")
    assert not is_valid_resident_id("110105194912310021")  # wrong check digit
    assert not is_valid_resident_id("110105194913310028")  # month 13
    assert not is_valid_resident_id("1101051949123100")  # Excel cut it short
    assert birth_date("11010519491231002X").isoformat() == "1949-12-31"
    assert gender("11010519491231002X") == "F"


def test_masking() -> None:
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812341234") == "138****1234"
    assert is_valid_mobile("13812341234")
    assert not is_valid_mobile("12812341234")
    assert mask_name("张三丰") == "张**"
    assert mask_address("广州市天河区体育西路123号") == "广州市天河区****"
    assert "123" not in mask_address("北京路123号")
    # The stored mask still tells a valid mobile from a short number or a landline.
    assert masked_is_mobile(mask_phone("13812341234"))
    for invalid in ("1381234123", "12812341234", "02081234123", ""):
        assert not masked_is_mobile(mask_phone(invalid))


@pytest.mark.parametrize(
    ("role", "stations"),
    [
        (Role.RECEPTION, [Station.OVERVIEW, Station.RECEPTION]),
        (Role.RM, [Station.OVERVIEW, Station.SERVICE_DESK, Station.MY_CUSTOMERS]),
        (Role.ACTIVATION, [Station.OVERVIEW, Station.ACTIVATION]),
        (Role.MERCHANT, [Station.OVERVIEW, Station.MERCHANT]),
        (Role.SUPERVISOR, list(Station)),
    ],
)
def test_stations_per_role(role: Role, stations: list[Station]) -> None:
    assert allowed_stations([role]) == stations


def test_wedge_scanner_or_person() -> None:
    from kiosk.scanning import WedgeDetector

    detector = WedgeDetector()
    for i in range(10):  # a scanner: 5 ms per key
        detector.key(i * 0.005)
    assert detector.finish() is True
    for i in range(10):  # a person: 120 ms per key
        detector.key(i * 0.12)
    assert detector.finish() is False
    for i in range(3):  # a person typed, paused, then scanned
        detector.key(i * 0.15)
    for i in range(10):
        detector.key(2 + i * 0.004)
    assert detector.finish() is True
    for i in range(3):  # too short to be a code
        detector.key(i * 0.004)
    assert detector.finish() is False


def test_home_station() -> None:
    from kiosk.roles import home_station

    built = [Station.OVERVIEW, Station.RECEPTION]
    assert home_station([Role.RECEPTION], built) is Station.RECEPTION
    assert home_station([Role.SUPERVISOR], built) is Station.OVERVIEW
    assert home_station([Role.RM], built) is Station.OVERVIEW  # the service desk is not built
    assert home_station([Role.RM, Role.RECEPTION], list(Station)) is Station.OVERVIEW
    # An RM's list of customers to remind is no second desk: the service desk stays home.
    assert home_station([Role.RM], list(Station)) is Station.SERVICE_DESK
    assert home_station([Role.RM], [Station.OVERVIEW, Station.MY_CUSTOMERS]) is Station.OVERVIEW
    assert home_station([Role.SUPERVISOR], list(Station)) is Station.OVERVIEW
