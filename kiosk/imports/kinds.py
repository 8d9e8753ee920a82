"""What each import holds, and the rules every row must pass before anything is written.

A kind is a list of ``Field``s (canonical name, English and Chinese header, description for
the template) and a row check that turns the cells of one row into a record or records
``ImportIssue``s against the column as the coordinator wrote it. Checks need the event's
reference data (branches, slots, staff, catalog), passed in as plain values so the rules run
without a database.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import money
from kiosk.governance import ID_TYPES, TAX_RESIDENCIES
from kiosk.i18n import _, catalog, get_language
from kiosk.imports import cells
from kiosk.imports.cells import CellProblem
from kiosk.kyc import OCCUPATIONS
from kiosk.models import (
    ContactChannel,
    FeedbackCategory,
    FollowupOutcome,
    FollowupStage,
    InvitationAnswer,
    Role,
    ServiceCategory,
    SlipStatus,
)
from kiosk.security import PIN_PATTERN


@dataclass(frozen=True)
class ImportIssue:
    """One problem: the row number as Excel shows it, the column header as written."""

    row: int
    column: str
    message: str


# Names (of customers, staff, branches, merchants, services), addresses and descriptions.
# The meaning of a tier is a sentence printed on the customer's statement.
# An employer is a company name (（南沙） as registered); products keep 、 until split. A note
# is the RM's own words on a follow-up.
PROSE_FIELDS = frozenset(
    {"name", "address", "merchant_name", "description", "meaning", "employer", "products", "note"}
)


@dataclass(frozen=True)
class Field:
    name: str
    header: str  # English header, a message id: templates are written in the UI language
    zh: str  # the Chinese header, accepted whatever the language
    description: str  # message id; the template's second row
    required: bool = False
    aliases: tuple[str, ...] = ()
    text_column: bool = False  # the template formats the column as Text (IDs, phones)
    code_column: bool = False  # codes keep their leading zeros: 0012345 is not 12345
    date_column: bool = False
    choices: tuple[str, ...] = ()  # offered as a drop-down in the template
    unless: str = ""  # a required column a file may leave out when it has this field's column

    @property
    def prose(self) -> bool:
        """Free text that keeps its shape when imported (``cells.clean(fold=False)``)."""
        return self.name in PROSE_FIELDS

    def spellings(self) -> set[str]:
        """Every header this field is recognised by: both languages, as the templates write
        them, and the usual variants."""
        written = (_(self.header), catalog("zh_CN").get(self.header, self.header))
        return {
            normalize_header(h) for h in (self.header, self.zh, self.name, *written, *self.aliases)
        }


def normalize_header(header: object) -> str:
    """ "客户号（必填）", "Customer no. *" and "customer_no" all compare equal to their field."""
    raw = cells.clean(unicodedata.normalize("NFKC", cells.text(header)))[0].lower()
    raw = re.sub(r"\(.*?\)", "", raw)
    return re.sub(r"[\s._\-*:/#]", "", raw)


@dataclass(frozen=True)
class RegisterMark:
    """A merchant the approved-merchant register marks warn or exit, and why."""

    code: str
    name: str
    status: str  # "warn" or "exit"
    reason: str
    event: str  # the event that decided it


@dataclass(frozen=True)
class Reference:
    """The event's data an import refers to, keyed by every spelling a coordinator uses."""

    event_code: str = ""
    timezone: str = "Asia/Shanghai"
    branches: dict[str, str] = field(default_factory=dict)  # code or name (lower) -> code
    slots: dict[str, str] = field(default_factory=dict)  # code or label (lower) -> code
    staff: dict[str, frozenset[str]] = field(default_factory=dict)  # staff no -> roles
    merchants: dict[str, str] = field(default_factory=dict)  # code -> name
    offers: dict[str, str] = field(default_factory=dict)  # offer code -> merchant code
    reserved: dict[str, int] = field(default_factory=dict)  # offer code -> slips issued
    invitees: frozenset[str] = frozenset()  # customer numbers invited to the event
    event_date: date | None = None  # a lot expiring before it is refused
    tiers: dict[str, str] = field(default_factory=dict)  # tier code or name (lower) -> code
    # (offer code, tier code) -> places of the tier's quota already taken
    tier_reserved: dict[tuple[str, str], int] = field(default_factory=dict)
    issued_tiers: dict[str, int] = field(default_factory=dict)  # tier code -> slips issued
    invite_codes: dict[str, str] = field(default_factory=dict)  # RM's personal code -> staff no
    # invitation code -> customer number (read for the SMS platform's send report only)
    invitation_codes: dict[str, str] = field(default_factory=dict)
    # slip serial -> (status, merchant code) (read for deliveries and call lists only)
    slips: dict[int, tuple[str, str]] = field(default_factory=dict)
    # customer number -> (their RM's staff no, "" for none; their follow-up groups), and the
    # day a follow-up date may not pass (read for the follow-up workbooks only)
    followup: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    today: date | None = None
    # The approved-merchant register's exit and warn merchants, by code and by exact name
    # (issue #21): a merchant that exited at an earlier event is refused in the catalog.
    register: dict[str, RegisterMark] = field(default_factory=dict)


# Accepted spellings (lower case, no spaces) of enumerated values.
def _options(values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for value, spellings in values.items():
        for spelling in (value, *spellings):
            options[spelling.lower().replace(" ", "")] = value
    return options


ID_TYPE_OPTIONS = _options(
    {
        "resident_id": ("居民身份证", "身份证", "resident id", "id card"),
        "passport": ("护照",),
        "hk_macao_permit": ("港澳居民来往内地通行证", "港澳通行证", "回乡证"),
        "taiwan_permit": ("台湾居民来往大陆通行证", "台胞证"),
        "foreign_permanent": ("外国人永久居留身份证", "永居证"),
    }
)
assert set(ID_TYPE_OPTIONS.values()) == set(ID_TYPES)
TIER_OPTIONS = _options(
    {
        "standard": ("普通", "标准", "普卡"),
        "gold": ("金卡", "黄金"),
        "platinum": ("白金", "铂金"),
        "diamond": ("钻石", "钻石卡"),
    }
)
MOBILE_OPTIONS = _options(
    {
        "none": ("未开通", "无", "否", "no"),
        "opened": ("已开通", "开通未使用", "opened"),
        "active": ("活跃", "已使用", "使用中", "yes"),
    }
)
GENDER_OPTIONS = _options({"M": ("男", "male"), "F": ("女", "female")})
TAX_OPTIONS = _options(
    {
        "CN": ("仅为中国税收居民", "中国税收居民", "中国", "居民"),
        "CN_AND_OTHER": ("既是中国也是其他国家税收居民", "中国及其他"),
        "OTHER": ("仅为非居民", "非居民", "其他"),
    }
)
assert set(TAX_OPTIONS.values()) == set(TAX_RESIDENCIES)
CATEGORY_OPTIONS = _options(
    {
        ServiceCategory.HEALTH: ("健康", "体检", "健康体检", "医疗", "理疗"),
        ServiceCategory.TRAVEL: ("旅游", "旅行", "旅游出行"),
        ServiceCategory.INSURANCE: ("保险", "保险保障"),
        ServiceCategory.CAR: ("汽车", "洗车", "车", "爱车养护", "汽车服务", "car care"),
        ServiceCategory.MOVIE: ("电影", "观影", "影院", "观影娱乐", "movies"),
        ServiceCategory.DINING: ("餐饮", "美食", "自助餐", "美食餐饮"),
        ServiceCategory.FAMILY: ("亲子", "亲子活动", "parent and child"),
        ServiceCategory.LEISURE: ("休闲", "娱乐", "休闲娱乐", "休闲体验", "采摘"),
    }
)
ROLE_OPTIONS = _options(
    {
        Role.RECEPTION: ("接待",),
        Role.RM: ("客户经理", "relationship manager"),
        Role.ACTIVATION: ("激活", "激活兑换"),
        Role.MERCHANT: ("商户",),
        Role.SUPERVISOR: ("主管", "管理员", "coordinator"),
    }
)
CHANNEL_OPTIONS = _options(
    {
        ContactChannel.SMS: ("短信", "text"),
        ContactChannel.PHONE: ("电话", "call"),
        ContactChannel.WECHAT: ("微信",),
        ContactChannel.BRANCH: ("网点", "到店", "面邀", "厅堂", "in branch"),
        ContactChannel.ONLINE: ("线上", "小程序", "网页"),
    }
)
assert set(CHANNEL_OPTIONS.values()) == set(ContactChannel)
ANSWER_OPTIONS = _options(
    {
        InvitationAnswer.CONFIRMED: ("确认", "已确认", "确认参加", "参加", "同意", "yes"),
        InvitationAnswer.DECLINED: ("拒绝", "婉拒", "不参加", "no"),
        InvitationAnswer.UNREACHABLE: ("未接通", "联系不上", "无法联系", "未联系上", "无人接听"),
    }
)
OCCUPATION_OPTIONS = {**{k: k for k in OCCUPATIONS}, **{v: k for k, v in OCCUPATIONS.items()}}
_LIST_SPLIT = re.compile(r"[,;，；、/|\s]+")
_QUANTITY = re.compile(r"^(.+?)\s*[x×*]\s*(\d+)$", re.IGNORECASE)


class RowCheck:
    """One row's cells by field, and the issues found in it."""

    def __init__(
        self, number: int, values: dict[str, Any], columns: dict[str, str], issues: list
    ) -> None:
        self.number = number
        self.values = values
        self.columns = columns  # field -> header as written (or the expected header)
        self._issues: list[ImportIssue] = issues
        self.ok = True

    def issue(self, name: str, message: str) -> None:
        self.ok = False
        self._issues.append(ImportIssue(self.number, self.columns.get(name, name), message))

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def has(self, name: str) -> bool:
        return not cells.is_blank(self.values.get(name))

    def get(self, name: str, parse: Callable[[Any], Any], *, required: bool = False) -> Any:
        """The parsed cell, or None when blank (an issue when required) or invalid."""
        value = self.values.get(name)
        if cells.is_blank(value):
            if required:
                self.issue(name, _("This cell must be filled in."))
            return None
        try:
            return parse(value)
        except CellProblem as problem:
            self.issue(name, str(problem))
            return None


def _allowed(options: dict[str, str]) -> list[str]:
    """The values a choice takes, as the file may say them: in Chinese each value's first
    Chinese spelling (短信 / 电话 …, as the template's hint), else the values themselves."""
    chinese = get_language().startswith("zh")
    shown: dict[str, str] = {}
    for spelling, value in options.items():
        shown.setdefault(value, value)
        if chinese and shown[value] == value and any("\u4e00" <= c <= "\u9fff" for c in spelling):
            shown[value] = spelling
    return list(shown.values())


def _choice(options: dict[str, str], what: Callable[[], str]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        raw = cells.text(value)
        found = options.get(raw.lower().replace(" ", ""))
        if found is None:
            allowed = " / ".join(_allowed(options))
            raise CellProblem(
                _("“{value}” is not a {what}: use one of {allowed}.").format(
                    value=raw, what=what(), allowed=allowed
                )
            )
        return found

    return parse


def _lookup(table: dict[str, str], message: Callable[[str], str]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        raw = cells.text(value)
        found = table.get(raw.lower()) or table.get(raw)
        if found is None:
            raise CellProblem(message(raw))
        return found

    return parse


def _text(limit: int, *, prose: bool = False) -> Callable[[Any], str]:
    """Text up to ``limit`` characters, runs of spaces made one; ``prose`` keeps full-width
    punctuation and letters as written (names, addresses, descriptions: see ``cells.clean``)."""

    def parse(value: Any) -> str:
        raw = " ".join((cells.prose if prose else cells.text)(value).split())
        if len(raw) > limit:
            raise CellProblem(_("This text is too long (at most {n} characters).").format(n=limit))
        return raw

    return parse


def _code(value: Any) -> str:
    raw = cells.text(value).replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z0-9_\-]{1,16}", raw):
        raise CellProblem(
            _("“{value}” is not a code: letters, digits, - and _, at most 16.").format(value=raw)
        )
    return raw


def _non_negative(what: Callable[[], str]) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = cells.whole_number(value)
        if number < 0:
            raise CellProblem(_("{what} cannot be negative.").format(what=what()))
        return number

    return parse


def _positive(value: Any) -> int:
    number = cells.whole_number(value)
    if number <= 0:
        raise CellProblem(_("The points price must be more than 0."))
    return number


def _occupation(value: Any) -> str:
    raw = cells.text(value)
    found = OCCUPATION_OPTIONS.get(raw)
    if found is None:
        raise CellProblem(
            _("“{value}” is not an occupation code (1 to 9, GB/T 6565).").format(value=raw)
        )
    return found


def _nationality(value: Any) -> str:
    raw = cells.text(value).upper()
    if raw in ("中国", "中华人民共和国", "CN"):
        return "CHN"
    if not re.fullmatch(r"[A-Z]{3}", raw):
        raise CellProblem(
            _("“{value}” is not a nationality code like CHN (ISO 3166, 3 letters).").format(
                value=raw
            )
        )
    return raw


# --- invitees ------------------------------------------------------------------------------

Lot = tuple[str, int, date | None]  # (ref, points, expires on; None: no expiry)

CUSTOMER_NO_SPELLINGS = (
    "customer number", "customer no", "customer id", "cust no", "cif", "cif no", "客户编号",
    "客户号码", "客户代码", "客户编码", "客户id", "cif号",
)  # fmt: skip


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class InviteeRecord:
    row: int
    customer_no: str
    name: str
    phone: str | None
    id_type: str
    id_number: str | None
    id_valid_from: date | None
    id_valid_to: date | None
    id_long_term: bool
    branch: str
    rm: str | None
    slot: str
    points_balance: int
    balance_as_of: datetime | None
    tier: str
    gender: str | None
    nationality: str | None
    occupation_code: str | None
    address: str | None
    tax_residency: str | None
    mobile_banking: str
    preselections: tuple[tuple[str, int], ...] | None  # None: column absent, keep what is there
    aum: int | None = None  # assets under management, yuan; None: not given
    # (ref, points, expires on) in the order written, refs "1", "2", ...; None: no lots cell,
    # the balance is one lot without a date (``kiosk.points.simple_balance``).
    lots: tuple[Lot, ...] | None = None
    # For a themed session's audience (issue #20); None: the column is absent or the cell
    # blank, what the customer has is kept. "" / (): the cell says 无 (none), cleared.
    employer: str | None = None
    products: tuple[str, ...] | None = None
    dormant: bool | None = None


# Products held (持有产品): the usual spellings of a product, made one name so a theme's rule
# and the customer list compare equal. A name not listed is kept as written (NFKC).
PRODUCT_NAMES = {
    "外汇": ("外币", "外汇业务", "结售汇", "外汇客户", "fx", "foreign exchange", "forex"),
    "理财": ("理财产品", "银行理财", "wealth management", "wealth"),
    "基金": ("基金产品", "公募基金", "fund", "funds"),
    "保险": ("代理保险", "保险产品", "insurance"),
    "贵金属": ("黄金", "实物黄金", "积存金", "precious metals"),
    "信用卡": ("credit card", "credit cards"),
    "代发": ("代发工资", "代发薪", "工资代发", "payroll"),
    "存款": ("定期", "定期存款", "储蓄", "deposit", "deposits"),
    "大额存单": ("大额存款", "cd", "certificate of deposit"),
    "贷款": ("个人贷款", "消费贷", "loan", "loans"),
    "房贷": ("住房贷款", "按揭", "个人住房贷款", "mortgage"),
}
_PRODUCT_OPTIONS = {
    unicodedata.normalize("NFKC", spelling).lower().replace(" ", ""): name
    for name, spellings in PRODUCT_NAMES.items()
    for spelling in (name, *spellings)
}
_PRODUCT_SPLIT = re.compile(r"[,;，；、/|｜+\n]+")
NONE_WORDS = frozenset({"无", "没有", "none", "-", "—", "/"})  # a cell that clears the column
PRODUCTS_LENGTH = 300  # Customer.products


def product_name(written: str) -> str:
    """One product as stored: its usual name (外币 -> 外汇), else as written, NFKC."""
    clean = " ".join(unicodedata.normalize("NFKC", written).split())
    return _PRODUCT_OPTIONS.get(clean.lower().replace(" ", ""), clean)


def product_list(text: str) -> tuple[str, ...]:
    """The products of a cell or a rule ("外汇、理财产品;基金"), each by its usual name, in the
    order written, once each."""
    names: list[str] = []
    for part in _PRODUCT_SPLIT.split(text):
        name = product_name(part)
        # Line breaks became spaces: "外汇 理财" is two products, "credit card" one.
        names += [name] if name in PRODUCT_NAMES or " " not in name else name.split()
    return tuple(dict.fromkeys(product_name(name) for name in names if name))


def _products(value: Any) -> tuple[str, ...]:
    raw = cells.prose(value)
    if raw.strip().lower() in NONE_WORDS:
        return ()
    found = product_list(raw)
    if any(len(name) > 20 for name in found):
        raise CellProblem(_("A product name is longer than 20 characters."))
    if len("|".join(found)) > PRODUCTS_LENGTH:
        raise CellProblem(
            _("The products are longer than {n} characters together.").format(n=PRODUCTS_LENGTH)
        )
    return found


def _employer(value: Any) -> str:
    raw = _text(100, prose=True)(value)
    return "" if raw.lower() in NONE_WORDS else raw


DORMANT_OPTIONS = _options(
    {
        "yes": ("是", "睡眠", "睡眠户", "睡眠客户", "y", "true", "1"),
        "no": ("否", "不是", "正常", "活跃", "n", "false", "0"),
    }
)


def _dormant(value: Any) -> bool:
    return _choice(DORMANT_OPTIONS, lambda: _("yes or no (是 / 否)"))(value) == "yes"


INVITEE_FIELDS = (
    Field(
        "customer_no",
        "Customer no.",
        "客户号",
        "Required. The bank's customer number.",
        True,
        CUSTOMER_NO_SPELLINGS,
        text_column=True,
        code_column=True,
    ),
    Field(
        "name",
        "Name",
        "姓名",
        "Required. As on the ID document.",
        True,
        ("客户姓名", "客户名称", "客户名", "customer name", "full name"),
    ),
    Field(
        "phone",
        "Mobile phone",
        "手机号",
        "11-digit mainland mobile number.",
        False,
        (
            "phone",
            "mobile",
            "手机",
            "手机号码",
            "联系电话",
            "电话号码",
            "电话",
            "移动电话",
            "手机号码1",
            "客户手机号",
            "联系手机",
            "联系方式",
            "phone number",
            "mobile number",
            "mobile no",
            "mobile phone number",
            "tel",
            "telephone",
            "cell phone",
        ),
        text_column=True,
    ),
    Field(
        "id_type",
        "ID type",
        "证件类型",
        "Blank means resident ID (居民身份证).",
        choices=(
            "居民身份证",
            "护照",
            "港澳居民来往内地通行证",
            "台湾居民来往大陆通行证",
            "外国人永久居留身份证",
        ),
    ),
    Field(
        "id_number",
        "ID number",
        "证件号码",
        "Format the column as Text: Excel rounds long numbers.",
        False,
        (
            "身份证",
            "身份证号",
            "身份证号码",
            "证件号",
            "身份证件号码",
            "证件号码",
            "居民身份证号码",
            "id no",
            "id card",
            "id card no",
            "id card number",
            "identity number",
            "id number",
            "certificate number",
        ),
        text_column=True,
    ),
    Field(
        "id_valid_from",
        "ID issued on",
        "证件起始日",
        "Date, e.g. 2016-05-20.",
        False,
        ("id valid from", "证件签发日期", "签发日期", "有效期起"),
        date_column=True,
    ),
    Field(
        "id_valid_to",
        "ID valid until",
        "证件到期日",
        "Date, or 长期 for a long-term ID.",
        False,
        ("id valid to", "证件有效期", "有效期至", "到期日"),
        date_column=True,
    ),
    Field(
        "branch",
        "Branch",
        "网点",
        "Required. Branch code or name, e.g. B01.",
        True,
        ("所属网点", "支行", "所属支行", "branch code", "开户网点", "网点名称", "网点编号"),
    ),
    Field(
        "rm",
        "RM staff no.",
        "客户经理工号",
        "Staff number of the relationship manager.",
        False,
        (
            "rm",
            "客户经理",
            "rm staff number",
            "管户客户经理",
            "客户经理编号",
            "管户经理",
            "管户经理工号",
            "rm工号",
            "relationship manager",
        ),
        code_column=True,
    ),
    Field(
        "slot",
        "Slot",
        "场次",
        "Required. Slot code or name, e.g. AM or 上午场.",
        True,
        ("time slot", "到场场次", "时段"),
    ),
    Field(
        "points_balance",
        "Points",
        "积分余额",
        "Required. Whole points, not negative.",
        True,
        ("points balance", "积分", "可用积分", "当前积分", "积分数"),
        unless="lots",
    ),
    Field(
        "balance_as_of",
        "Points as of",
        "积分日期",
        "Date and time of the balance.",
        False,
        ("balance as of", "余额日期", "积分截止日期"),
        date_column=True,
    ),
    Field(
        "tier",
        "Tier",
        "客户等级",
        "standard / gold / platinum / diamond.",
        choices=("standard", "gold", "platinum", "diamond"),
        aliases=("等级",),
    ),
    Field("gender", "Gender", "性别", "男 / 女", choices=("男", "女")),
    Field("nationality", "Nationality", "国籍", "3 letters, e.g. CHN."),
    Field(
        "occupation_code",
        "Occupation",
        "职业",
        "Code 1 to 9 (GB/T 6565).",
        aliases=("occupation code", "职业代码"),
        choices=tuple(OCCUPATIONS),
    ),
    Field("address", "Address", "地址", "Home address.", aliases=("联系地址", "住址")),
    Field(
        "tax_residency",
        "Tax residency",
        "税收居民身份",
        "CN / CN_AND_OTHER / OTHER.",
        choices=TAX_RESIDENCIES,
        aliases=("税收居民",),
    ),
    Field(
        "mobile_banking",
        "Mobile banking",
        "手机银行",
        "未开通 / 已开通 / 活跃.",
        choices=("未开通", "已开通", "活跃"),
        aliases=("手机银行状态",),
    ),
    Field(
        "preselections",
        "Pre-selected services",
        "预选服务",
        "Service codes, e.g. O101, O501×2.",
        aliases=("preselected", "预约服务", "意向服务"),
    ),
    Field(
        "aum",
        "AUM (yuan)",
        "资产规模（元）",
        "Yuan, e.g. 500000 or 50万; sets the event tier.",
        aliases=("aum", "资产", "资产规模", "金融资产", "客户资产", "aum余额", "assets"),
    ),
    Field(
        "lots",
        "Points lots",
        "积分批次",
        "Lots by expiry: 3000@2027-06-30; 500 (no date). Their sum is the balance (Points may "
        "stay blank).",
        aliases=("lots", "points lots", "积分明细", "积分有效期", "分批积分"),
        text_column=True,  # Excel would read a lone 2027/6/30 as a date
    ),
    Field(
        "employer",
        "Payroll employer",
        "代发薪单位",
        "The company that pays the salary through the bank, e.g. 某某科技有限公司.",
        aliases=(
            "employer",
            "payroll employer",
            "代发单位",
            "工资代发单位",
            "代发薪企业",
            "代发企业",
            "代发工资单位",
            "工作单位",
        ),
    ),
    Field(
        "products",
        "Products held",
        "持有产品",
        "Products the customer holds, e.g. 外汇、理财、基金; 无 clears them.",
        aliases=("products", "products held", "产品", "持有产品", "已持有产品", "签约产品"),
    ),
    Field(
        "dormant",
        "Dormant",
        "是否睡眠户",
        "是 / 否; blank keeps what is there.",
        aliases=("dormant", "睡眠客户", "睡眠户", "是否睡眠客户", "睡眠"),
        choices=("是", "否"),
    ),
)


# The customer list's columns: an invitee's, without the slot and pre-selected services.
CUSTOMER_FIELDS = tuple(f for f in INVITEE_FIELDS if f.name not in ("slot", "preselections"))


def check_customer(row: RowCheck, ref: Reference) -> InviteeRecord | None:
    """A row of the customer list (客户名单): an invitee's columns without the slot."""
    return check_invitee(row, ref, invited=False)


def check_invitee(row: RowCheck, ref: Reference, *, invited: bool = True) -> InviteeRecord | None:
    zone = ZoneInfo(ref.timezone)
    customer_no = row.get("customer_no", _code, required=True)
    name = row.get("name", _text(64, prose=True), required=True)
    phone = row.get("phone", cells.mobile)
    id_type = row.get("id_type", _choice(ID_TYPE_OPTIONS, lambda: _("ID type"))) or "resident_id"
    id_number = row.get("id_number", lambda v: cells.id_number(v, id_type))
    valid_from = row.get("id_valid_from", cells.day)
    long_term = cells.text(row.raw("id_valid_to")).lower() in cells.LONG_TERM
    valid_to = None if long_term else row.get("id_valid_to", cells.day)
    if valid_from and valid_to and valid_to <= valid_from:
        row.issue("id_valid_to", _("The ID expires before it was issued."))
    branch = row.get(
        "branch",
        _lookup(ref.branches, lambda v: _("There is no branch “{value}”.").format(value=v)),
        required=True,
    )
    rm = row.get("rm", _code)
    if rm is not None:
        roles = ref.staff.get(rm)
        if roles is None:
            row.issue(
                "rm",
                _("There is no staff number “{value}”; import the staff first.").format(value=rm),
            )
        elif Role.RM not in roles:
            row.issue("rm", _("{value} is not a relationship manager.").format(value=rm))
    slot = (
        row.get(
            "slot",
            _lookup(
                ref.slots, lambda v: _("There is no slot “{value}” in this event.").format(value=v)
            ),
            required=True,
        )
        if invited
        else ""
    )
    lots = _lots(row, ref) if row.has("lots") else None
    points = row.get(
        "points_balance", _non_negative(lambda: _("Points")), required=not row.has("lots")
    )
    if lots is not None:
        total = sum(points for _ref, points, _expires in lots)
        if not row.has("points_balance"):
            points = total  # the lots alone give the balance
        elif points is not None and points != total:
            row.issue(
                "lots",
                _("The lots add up to {total:,} points, but “{column}” says {points:,}.").format(
                    total=total, column=row.columns.get("points_balance", ""), points=points
                ),
            )
    aum = row.get("aum", _amount(lambda: _("AUM")))
    as_of = row.get("balance_as_of", lambda v: cells.moment(v, zone))
    tier = row.get("tier", _choice(TIER_OPTIONS, lambda: _("tier"))) or "standard"
    gender = row.get("gender", _choice(GENDER_OPTIONS, lambda: _("gender")))
    nationality = row.get("nationality", _nationality)
    occupation = row.get("occupation_code", _occupation)
    address = row.get("address", _text(300, prose=True))
    tax = row.get("tax_residency", _choice(TAX_OPTIONS, lambda: _("tax residency")))
    mobile = row.get("mobile_banking", _choice(MOBILE_OPTIONS, lambda: _("mobile-banking state")))
    preselections: tuple[tuple[str, int], ...] | None = None
    if invited and "preselections" in row.columns and "preselections" in row.values:
        preselections = _preselections(row, ref)
    employer = row.get("employer", _employer)
    products = row.get("products", _products)
    dormant = row.get("dormant", _dormant)
    if not row.ok:
        return None
    return InviteeRecord(
        row=row.number,
        customer_no=customer_no,
        name=name,
        phone=phone,
        id_type=id_type,
        id_number=id_number,
        id_valid_from=valid_from,
        id_valid_to=valid_to,
        id_long_term=long_term,
        branch=branch,
        rm=rm,
        slot=slot,
        points_balance=points,
        balance_as_of=as_of,
        tier=tier,
        gender=gender,
        nationality=nationality,
        occupation_code=occupation,
        address=address,
        tax_residency=tax,
        mobile_banking=mobile or "none",
        preselections=preselections,
        aum=aum,
        lots=lots,
        employer=employer,
        products=products,
        dormant=dormant,
    )


_LOT_SPLIT = re.compile(r"[;\s]+")  # ; (；) and line breaks (made spaces by ``cells.clean``)
_LOT_AT = re.compile(r"\s*@\s*")


def _lots(row: RowCheck, ref: Reference) -> tuple[Lot, ...] | None:
    """The lots of a cell like ``3000@2027-06-30; 2000@2028-12-31; 500``, each ``points`` or
    ``points@expiry``, refs "1", "2", ... in the order written; every bad lot is an issue."""
    raw = _LOT_AT.sub("@", cells.text(row.raw("lots")))
    lots: list[Lot] = []
    ok = True
    for number, written in enumerate((p for p in _LOT_SPLIT.split(raw) if p), start=1):
        problem = _lot_problem(written, ref)
        if isinstance(problem, str):
            said = _("Lot {n} “{lot}”: {problem}")
            row.issue("lots", said.format(n=number, lot=written, problem=problem))
            ok = False
        else:
            lots.append((str(number), *problem))
    if not lots and ok:
        row.issue("lots", _("No lot could be read; write them like 3000@2027-06-30; 500."))
        return None
    return tuple(lots) if ok else None


def _lot_problem(written: str, ref: Reference) -> tuple[int, date | None] | str:
    """One lot's (points, expiry), or the sentence that says what is wrong with it."""
    amount, at, expiry = written.partition("@")
    if not amount or "@" in expiry or (at and not expiry):
        return _("write each lot as points@expiry date, e.g. 3000@2027-06-30, or points alone.")
    try:
        points = cells.whole_number(amount)
    except CellProblem:
        return _("“{value}” is not a whole number of points.").format(value=amount)
    if points < 0:
        return _("a lot cannot hold negative points.")
    if not expiry:
        return points, None
    try:
        expires = cells.day(expiry)
    except CellProblem:
        return _("“{value}” is not a date; write it like 2027-06-30.").format(value=expiry)
    if ref.event_date is not None and expires < ref.event_date:
        return _(
            "it expires on {date}, before the event day ({event}); leave those points out."
        ).format(date=expires.isoformat(), event=ref.event_date.isoformat())
    return points, expires


def _amount(what: Callable[[], str]) -> Callable[[Any], int]:
    """Yuan (``cells.yuan``: 500000, 3,000,000, 50万), not negative."""

    def parse(value: Any) -> int:
        number = cells.yuan(value)
        if number < 0:
            raise CellProblem(_("{what} cannot be negative.").format(what=what()))
        return number

    return parse


def _preselections(row: RowCheck, ref: Reference) -> tuple[tuple[str, int], ...]:
    chosen: dict[str, int] = {}
    raw = cells.text(row.raw("preselections"))
    for part in _LIST_SPLIT.split(raw.replace("×", "x").replace(" x", "x").replace("x ", "x")):
        if not part:
            continue
        match = _QUANTITY.fullmatch(part)
        code, quantity = (match[1], int(match[2])) if match else (part, 1)
        code = code.upper()
        if code not in ref.offers:
            row.issue(
                "preselections",
                _("“{value}” is not a service in the catalog; import the catalog first.").format(
                    value=code
                ),
            )
        elif quantity <= 0:
            row.issue("preselections", _("A quantity must be at least 1."))
        else:
            chosen[code] = chosen.get(code, 0) + quantity
    return tuple(chosen.items())


# --- catalog -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class OfferRecord:
    row: int
    merchant_code: str
    merchant_name: str | None
    booth: str | None
    code: str
    name: str
    category: str
    points_price: int
    capacity: int
    redeem_by: date
    description: str
    # (tier code, points price or None for the offer's own, quota or None for no quota);
    # None: the column is absent and the offer's tier terms stay as they are.
    tier_terms: tuple[tuple[str, int | None, int | None], ...] | None = None
    # The settlement columns (kiosk.money): None in a column the file has is "none" (the
    # merchant has no rate, the service no price of its own); a column the file leaves out
    # keeps what the event has (``rate_column``, ``price_column`` False).
    rate_micro: int | None = None
    price_fen: int | None = None
    rate_column: bool = False
    price_column: bool = False


CATALOG_FIELDS = (
    Field(
        "merchant_code",
        "Merchant code",
        "商户编号",
        "Required, e.g. M01.",
        True,
        ("merchant", "商户代码", "商户号"),
        code_column=True,
    ),
    Field(
        "merchant_name",
        "Merchant name",
        "商户名称",
        "Required for a new merchant.",
        False,
        ("商户",),
    ),
    Field("booth", "Booth", "展位", "Booth at the venue, e.g. A1.", aliases=("摊位", "展位号")),
    Field(
        "code",
        "Service code",
        "服务编号",
        "Required, unique, e.g. O101.",
        True,
        ("offer code", "服务代码", "权益编号"),
        code_column=True,
    ),
    Field("name", "Service", "服务名称", "Required.", True, ("offer", "service name", "权益名称")),
    Field(
        "category",
        "Category",
        "服务类别",
        "Required. Services only: 健康体检 / 旅游出行 / …",
        True,
        ("service category", "类别", "类型"),
        choices=tuple(c.value for c in ServiceCategory),
    ),
    Field(
        "points_price",
        "Points price",
        "所需积分",
        "Required. Whole points, more than 0.",
        True,
        ("points", "积分", "兑换积分", "积分价格"),
    ),
    Field(
        "capacity",
        "Capacity",
        "名额",
        "Required. How many can be redeemed at the event.",
        True,
        ("数量", "库存", "可兑换数量"),
    ),
    Field(
        "redeem_by",
        "Redeem by",
        "兑换截止日",
        "Required. Last day to use the service.",
        True,
        ("redeem-by date", "有效期至", "使用截止日期", "截止日期"),
        date_column=True,
    ),
    Field(
        "description",
        "Description",
        "说明",
        "What the customer gets.",
        aliases=("服务说明", "备注"),
    ),
    Field(
        "tier_terms",
        "Tier prices and quotas",
        "等级价格与名额",
        "Tier:price/quota, e.g. GOLD:8000/20; DIAMOND:6000 (GOLD:-/20 keeps the price). Import "
        "tiers first.",
        aliases=("tier terms", "tier prices", "等级价格", "分级价格", "等级定价"),
        text_column=True,
    ),
    Field(
        "rate",
        "Settlement rate (yuan per point)",
        "结算费率（元/积分）",
        "What the bank pays the merchant per point redeemed, e.g. 0.01 (at most 6 decimals). "
        "The same on every row of the merchant, or on one of them.",
        aliases=("rate", "结算费率", "费率", "每积分结算金额"),
    ),
    Field(
        "price",
        "Settlement price (yuan)",
        "结算单价（元）",
        "What the bank pays per unit of this service, e.g. 35.00; it overrides the merchant's "
        "rate.",
        aliases=("settlement price", "结算单价", "结算价格", "单价"),
    ),
)


_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _decimal(value: Any) -> Decimal:
    """An exact decimal as a cell holds it: a typed number (Excel's float read back as the
    shortest decimal that gives it: 0.01, not 0.01000000000000000020816…), or text with an
    optional ¥/元 and thousands separators."""
    if isinstance(value, bool):
        raise CellProblem(_("“{value}” is not an amount.").format(value=value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellProblem(_("“{value}” is not an amount.").format(value=value))
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    raw = cells.text(value).replace(",", "").replace("，", "").replace(" ", "")
    raw = raw.removeprefix("¥").removeprefix("￥").removesuffix("元")
    if not _DECIMAL.fullmatch(raw):
        raise CellProblem(
            _("“{value}” is not an amount: write a number like 0.01 or 35.00.").format(
                value=cells.text(value)
            )
        )
    return Decimal(raw)


def _rate(value: Any) -> int:
    """Yuan per point, more than 0, at most 6 decimals: in millionths of a yuan."""
    number = _decimal(value)
    if number <= 0:
        raise CellProblem(
            _("The settlement rate must be more than 0; leave the cell empty for no rate.")
        )
    try:
        return money.rate_micro_of(number)
    except ValueError:
        raise CellProblem(
            _("The settlement rate has at most 6 decimals (0.000001 yuan per point).")
        ) from None


def _price(value: Any) -> int:
    """Yuan per unit of a service, more than 0, to the fen: in fen."""
    number = _decimal(value)
    if number <= 0:
        raise CellProblem(
            _("The settlement price must be more than 0; leave the cell empty for no price.")
        )
    try:
        return money.fen_of(number)
    except ValueError:
        raise CellProblem(_("The settlement price has at most 2 decimals (fen).")) from None


def _category(value: Any) -> str:
    raw = cells.text(value)
    found = CATEGORY_OPTIONS.get(raw.lower().replace(" ", ""))
    if found is None:
        allowed = " / ".join(c.value for c in ServiceCategory)
        raise CellProblem(
            _("Points buy services only: “{value}” is not a service category ({allowed}).").format(
                value=raw, allowed=allowed
            )
        )
    return found


def check_offer(row: RowCheck, ref: Reference) -> OfferRecord | None:
    merchant = row.get("merchant_code", _code, required=True)
    merchant_name = row.get("merchant_name", _text(100, prose=True))
    booth = row.get("booth", _text(16))
    code = row.get("code", _code, required=True)
    name = row.get("name", _text(100, prose=True), required=True)
    category = row.get("category", _category, required=True)
    price = row.get("points_price", _positive, required=True)
    capacity = row.get("capacity", _non_negative(lambda: _("Capacity")), required=True)
    redeem_by = row.get("redeem_by", cells.day, required=True)
    description = row.get("description", _text(300, prose=True)) or ""
    if merchant:
        _refuse_exited(row, ref, merchant, merchant_name)
    terms = None
    if "tier_terms" in row.columns and "tier_terms" in row.values:
        terms = _tier_terms(row, ref, code) if row.has("tier_terms") else ()
    rate_column = "rate" in row.columns and "rate" in row.values
    price_column = "price" in row.columns and "price" in row.values
    rate = row.get("rate", _rate) if rate_column else None
    price_fen = row.get("price", _price) if price_column else None
    if code and capacity is not None and capacity < ref.reserved.get(code, 0):
        row.issue(
            "capacity",
            _("{n} of this service are already issued; the capacity cannot be lower.").format(
                n=ref.reserved[code]
            ),
        )
    if not row.ok:
        return None
    return OfferRecord(
        row.number,
        merchant,
        merchant_name,
        booth,
        code,
        name,
        category,
        price,
        capacity,
        redeem_by,
        description,
        terms,
        rate,
        price_fen,
        rate_column,
        price_column,
    )


def _refuse_exited(row: RowCheck, ref: Reference, code: str, name: str | None) -> None:
    """A merchant the register says exited is refused, by its code or its exact name."""
    column, mark = "merchant_code", ref.register.get(code)
    if mark is None and name:
        column, mark = "merchant_name", ref.register.get(name)
    if mark is not None and mark.status == "exit":
        row.issue(
            column,
            _("Merchant {code} {name} exited at {event}: {reason}").format(
                code=mark.code, name=mark.name, event=mark.event, reason=mark.reason
            ),
        )


_TERMS_AROUND = re.compile(r"\s*([:/])\s*")
_TERMS_LINES = re.compile(r"\s+(?=[^\s:]+:)")  # line breaks (made spaces) between two terms


def _tier_terms(
    row: RowCheck, ref: Reference, offer: str | None
) -> tuple[tuple[str, int | None, int | None], ...]:
    """``GOLD:8000/20; DIAMOND:6000; GOLD:-/20``: per tier (code or name) a price (``-``: the
    offer's own) and a quota; every term that cannot be used is an issue."""
    raw = _TERMS_AROUND.sub(r"\1", cells.text(row.raw("tier_terms")))
    written = [t for chunk in raw.split(";") for t in _TERMS_LINES.split(chunk.strip()) if t]
    terms: dict[str, tuple[str, int | None, int | None]] = {}
    for term in written:
        name, colon, rest = term.partition(":")
        if not colon or not name or not rest or ":" in rest:
            row.issue(
                "tier_terms",
                _(
                    "“{term}” cannot be read: write tier:price/quota, e.g. GOLD:8000/20, "
                    "GOLD:-/20 or DIAMOND:6000."
                ).format(term=term),
            )
            continue
        tier = ref.tiers.get(name.lower())
        if tier is None:
            row.issue(
                "tier_terms",
                _(
                    "There is no tier “{value}” in this event; import the tiers first, then "
                    "the catalog."
                ).format(value=name),
            )
            continue
        if tier in terms:
            row.issue("tier_terms", _("Tier {tier} is given twice.").format(tier=tier))
            continue
        price_text, _slash, quota_text = rest.partition("/")
        price = _term_number(row, price_text, tier)
        quota = _term_number(row, quota_text, tier)
        if price is not None and price <= 0:
            row.issue(
                "tier_terms",
                _("The points price for {tier} must be more than 0.").format(tier=tier),
            )
        if quota is not None and quota < 0:
            row.issue("tier_terms", _("The quota for {tier} cannot be negative.").format(tier=tier))
        elif quota is not None and offer and quota < ref.tier_reserved.get((offer, tier), 0):
            row.issue(
                "tier_terms",
                _("{tier} quota: {n} place(s) already taken; the quota cannot be lower.").format(
                    n=ref.tier_reserved[(offer, tier)], tier=tier
                ),
            )
        terms[tier] = (tier, price, quota)
    return tuple(terms.values())


def _term_number(row: RowCheck, written: str, tier: str) -> int | None:
    """A price or quota of a tier term; blank or ``-`` is none (the offer's own price, no
    quota)."""
    if written in ("", "-"):
        return None
    try:
        return cells.whole_number(written)
    except CellProblem as problem:
        row.issue("tier_terms", f"{tier}: {problem}")
        return None


# --- event tiers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierRecord:
    row: int
    code: str
    name: str
    aum_floor: int  # yuan
    meaning: str


TIER_FIELDS = (
    Field(
        "code",
        "Tier code",
        "等级代码",
        "Required, e.g. GOLD (without AUM, the ledger's tier of that code).",
        True,
        ("tier", "等级", "等级编号", "tier code"),
        code_column=True,
    ),
    Field(
        "name",
        "Tier name",
        "等级名称",
        "Required, e.g. 金卡 (at most 32 characters).",
        True,
        ("名称", "tier name"),
    ),
    Field(
        "aum_floor",
        "AUM floor (yuan)",
        "资产下限（元）",
        "Required. The band's lowest AUM, e.g. 50万; lowest band first.",
        True,
        ("aum floor", "floor", "资产门槛", "起点资产", "aum下限", "资产规模下限", "资产下限"),
    ),
    Field(
        "meaning",
        "What the tier means",
        "等级说明",
        "One sentence for the customer's statement.",
        aliases=("meaning", "说明", "等级权益"),
    ),
)


def check_tier(row: RowCheck, ref: Reference) -> TierRecord | None:
    code = row.get("code", _code, required=True)
    name = row.get("name", _text(32, prose=True), required=True)
    floor = row.get("aum_floor", _amount(lambda: _("The AUM floor")), required=True)
    meaning = row.get("meaning", _text(300, prose=True)) or ""
    if not row.ok:
        return None
    return TierRecord(row.number, code, name, floor, meaning)


# --- staff ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class StaffRecord:
    row: int
    staff_no: str
    name: str
    branch: str | None
    roles: tuple[str, ...]
    pin: str | None


STAFF_FIELDS = (
    Field(
        "staff_no",
        "Staff no.",
        "工号",
        "Required, e.g. RM001.",
        True,
        ("staff number", "员工号", "员工编号", "柜员号", "staff id"),
        text_column=True,
        code_column=True,
    ),
    Field("name", "Name", "姓名", "Required.", True, ("员工姓名",)),
    Field(
        "branch",
        "Branch",
        "网点",
        "Branch code or name; blank for venue staff.",
        False,
        ("所属网点", "支行", "所属支行"),
    ),
    Field(
        "roles",
        "Roles",
        "角色",
        "Required: 接待 / 客户经理 / 激活 / 商户 / 主管, several separated by 、",
        True,
        ("role", "岗位"),
    ),
    Field(
        "pin",
        "Initial PIN",
        "初始密码",
        "4 to 8 digits; needed for new staff only.",
        False,
        ("pin", "密码"),
        text_column=True,
    ),
)


def _roles(value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for part in _LIST_SPLIT.split(cells.text(value)):
        if part:
            role = _choice(ROLE_OPTIONS, lambda: _("role"))(part)
            if role not in found:
                found.append(role)
    return tuple(found)


def _pin(value: Any) -> str:
    pin = cells.text(value)
    if not PIN_PATTERN.fullmatch(pin):
        raise CellProblem(
            _("A PIN is 4 to 8 digits (format the column as Text to keep leading zeros).")
        )
    return pin


def check_staff(row: RowCheck, ref: Reference) -> StaffRecord | None:
    staff_no = row.get("staff_no", _code, required=True)
    name = row.get("name", _text(64, prose=True), required=True)
    branch = row.get(
        "branch",
        _lookup(ref.branches, lambda v: _("There is no branch “{value}”.").format(value=v)),
    )
    roles = row.get("roles", _roles, required=True)
    pin = row.get("pin", _pin)
    if staff_no and staff_no not in ref.staff and pin is None and not row.has("pin"):
        row.issue("pin", _("A new member of staff needs an initial PIN."))
    if roles is not None and Role.RM in roles and branch is None and row.ok:
        row.issue("branch", _("A relationship manager belongs to a branch."))
    if not row.ok:
        return None
    return StaffRecord(row.number, staff_no, name, branch, roles, pin)


# --- branches ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class BranchRecord:
    row: int
    code: str
    name: str
    target: int | None


BRANCH_FIELDS = (
    Field(
        "code",
        "Branch code",
        "网点编号",
        "Required, e.g. B01.",
        True,
        ("branch", "网点代码"),
        code_column=True,
    ),
    Field("name", "Branch name", "网点名称", "Required, e.g. 天河支行.", True, ("网点", "支行")),
    Field(
        "target",
        "Target",
        "目标人数",
        "Customers the branch aims to bring (confirmed).",
        aliases=("目标", "邀约目标"),
    ),
)


def check_branch(row: RowCheck, ref: Reference) -> BranchRecord | None:
    code = row.get("code", _code, required=True)
    name = row.get("name", _text(100, prose=True), required=True)
    target = row.get("target", _non_negative(lambda: _("Target")))
    if not row.ok:
        return None
    return BranchRecord(row.number, code, name, target)


# --- invitation reports --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class AnswerRecord:
    row: int
    customer_no: str
    channel: str
    invited_on: date
    answer: str | None
    companions: int
    rm_no: str | None = None  # the RM who made the contact (their column, or their code's)


# Who may be named as the RM who made a contact: an RM, or a supervisor (a branch head who
# called a customer himself). Reception, activation and merchant staff never invite.
INVITING_ROLES = frozenset({Role.RM, Role.SUPERVISOR})
_MISREAD = str.maketrans("OIL", "011")

INVITATION_FIELDS = (
    Field(
        "customer_no",
        "Customer no.",
        "客户号",
        "Required: an invitee of this event.",
        True,
        CUSTOMER_NO_SPELLINGS,
        text_column=True,
        code_column=True,
    ),
    Field("name", "Name", "姓名", "For reading only; not imported.", aliases=("客户姓名",)),
    Field(
        "channel",
        "Invited by",
        "邀约方式",
        "短信 / 电话 / 微信 / 网点 / 线上",
        True,
        ("channel", "方式", "邀请方式"),
        choices=("短信", "电话", "微信", "网点", "线上"),
    ),
    Field(
        "invited_on",
        "Invited on",
        "邀约日期",
        "Required. The day of the call or message.",
        True,
        ("date", "日期"),
        date_column=True,
    ),
    Field(
        "answer",
        "Answer",
        "客户答复",
        "确认 / 拒绝 / 未接通; blank when no answer yet.",
        aliases=("答复", "结果", "邀约结果"),
        choices=("确认", "拒绝", "未接通"),
    ),
    Field(
        "companions",
        "Companions",
        "同行人数",
        "Whole number, 0 when alone.",
        aliases=("随行人数", "陪同人数"),
    ),
    Field(
        "rm_no",
        "Inviting RM staff no.",
        "邀约客户经理工号",
        "Optional: the RM who made the contact, when not the customer's own.",
        aliases=("邀约人", "邀约人工号", "邀约客户经理", "inviting rm"),
        text_column=True,
        code_column=True,
    ),
    Field(
        "rm_code",
        "RM invitation code",
        "邀请码",
        "Optional: the RM's personal invitation code the customer gave (not the customer's).",
        aliases=("个人邀请码", "推荐码", "客户经理邀请码"),
        text_column=True,
        code_column=True,
    ),
)


def check_answer(row: RowCheck, ref: Reference) -> AnswerRecord | None:
    customer_no = row.get("customer_no", _code, required=True)
    if customer_no and customer_no not in ref.invitees:
        row.issue(
            "customer_no",
            _("{value} is not an invitee of this event; import the invitees first.").format(
                value=customer_no
            ),
        )
    channel = row.get("channel", _choice(CHANNEL_OPTIONS, lambda: _("channel")), required=True)
    invited_on = row.get("invited_on", cells.day, required=True)
    answer = row.get("answer", _choice(ANSWER_OPTIONS, lambda: _("answer")))
    companions = row.get("companions", _non_negative(lambda: _("Companions"))) or 0
    rm_no = row.get("rm_no", _code)
    if rm_no is not None:
        roles = ref.staff.get(rm_no)
        if roles is None:
            row.issue("rm_no", _("There is no member of staff “{value}”.").format(value=rm_no))
            rm_no = None
        elif not roles & INVITING_ROLES:
            row.issue(
                "rm_no",
                _("{value} is not a relationship manager: only an RM invites.").format(value=rm_no),
            )
            rm_no = None
    code = row.get("rm_code", _code)
    if code is not None:
        # Codes hold no I, L or O: a customer who typed one meant 1 or 0.
        code = code.translate(_MISREAD)
        owner = ref.invite_codes.get(code)
        if owner is None:
            row.issue(
                "rm_code",
                _("“{value}” is no RM's invitation code (kiosk rm codes).").format(value=code),
            )
        elif rm_no is not None and owner != rm_no:
            row.issue(
                "rm_code",
                _("The code {code} is {owner}'s, but the row names {rm}.").format(
                    code=code, owner=owner, rm=rm_no
                ),
            )
        else:
            rm_no = owner
    if not row.ok:
        return None
    return AnswerRecord(row.number, customer_no, channel, invited_on, answer, companions, rm_no)


# --- the SMS platform's send report (reminders sent) ----------------------------------------


@dataclass(frozen=True, slots=True)  # a 400,000-row file holds as many
class SendRecord:
    row: int
    customer_no: str
    sent_at: datetime  # UTC
    sent: bool  # False: the platform reports a failure (listed, never recorded as a reminder)
    status: str  # as written


SEND_STATUS_OPTIONS = _options(
    {
        "ok": (
            "成功", "发送成功", "已发送", "送达", "已送达", "成功送达", "success", "succeeded",
            "delivered", "sent",
        ),
        "failed": (
            "失败", "发送失败", "未送达", "送达失败", "拒收", "空号", "停机", "failure", "fail",
            "error", "undelivered",
        ),
    }
)  # fmt: skip

REMINDER_REPORT_FIELDS = (
    Field(
        "customer_no",
        "Customer no.",
        "客户号",
        "The customer no. or the invitation code (the reminders export carries both).",
        True,
        CUSTOMER_NO_SPELLINGS,
        text_column=True,
        code_column=True,
        unless="code",
    ),
    Field(
        "code",
        "Invitation code",
        "邀请码",
        "Or the invitation code instead of the customer no.",
        aliases=("invitation code", "code", "邀约码", "签到码"),
        text_column=True,
    ),
    Field(
        "sent_at",
        "Send time",
        "发送时间",
        "Required, e.g. 2026-11-27 10:05.",
        True,
        ("sent at", "time", "send time", "时间", "发送日期", "提交时间"),
    ),
    Field(
        "status",
        "Send status",
        "发送状态",
        "成功 / 失败; only successes are recorded as reminders.",
        True,
        ("status", "状态", "结果", "发送结果"),
        choices=("成功", "失败"),
    ),
    Field("phone", "Mobile phone", "手机号", "For reading only; not imported.", aliases=("号码",)),
)


def check_send(row: RowCheck, ref: Reference) -> SendRecord | None:
    customer_no = row.get("customer_no", _code)
    code = row.get("code", lambda v: cells.text(v).replace(" ", "").upper())
    by_code = ref.invitation_codes.get(code) if code else None
    if code and by_code is None:
        row.issue(
            "code",
            _("{value} is not an invitation code of this event.").format(value=code),
        )
    if customer_no and customer_no not in ref.invitees:
        row.issue(
            "customer_no",
            _("{value} is not an invitee of this event; import the invitees first.").format(
                value=customer_no
            ),
        )
    elif customer_no and by_code and by_code != customer_no:
        row.issue(
            "code",
            _("The invitation code {code} is customer {other}'s, not {value}'s.").format(
                code=code, other=by_code, value=customer_no
            ),
        )
    if not customer_no and not code and row.ok:
        row.issue("customer_no", _("Fill in the customer no. or the invitation code."))
    zone = ZoneInfo(ref.timezone)
    sent_at = row.get("sent_at", lambda v: cells.moment(v, zone), required=True)
    status = row.get(
        "status", _choice(SEND_STATUS_OPTIONS, lambda: _("send status")), required=True
    )
    if not row.ok:
        return None
    return SendRecord(
        row.number,
        customer_no or by_code or "",
        sent_at,
        status == "ok",
        cells.text(row.raw("status")),
    )


# --- after the event (issue #21): service delivered, satisfaction calls --------------------

_SLIP_NO = re.compile(r"^(?:no\.?|№|#)?\s*0*(\d{1,9})$", re.IGNORECASE)
# The call list's drop-down (Chinese, as the callers write) and the spellings accepted.
FEEDBACK_CATEGORY_ZH = {
    FeedbackCategory.REFUSED: "拒绝服务",
    FeedbackCategory.CONDITIONS: "附加条件",
    FeedbackCategory.QUALITY: "服务质量差",
    FeedbackCategory.OTHER: "其他",
}
FEEDBACK_CATEGORY_OPTIONS = _options(
    {
        FeedbackCategory.REFUSED: ("拒绝服务", "拒绝", "拒收", "refused", "拒绝兑换"),
        FeedbackCategory.CONDITIONS: (
            "附加条件", "附加条件/加价", "加价", "强制消费", "extra conditions", "conditions",
        ),
        FeedbackCategory.QUALITY: ("服务质量差", "服务质量", "质量", "差别对待", "quality"),
        FeedbackCategory.OTHER: ("其他", "其它", "other"),
    }
)  # fmt: skip


def _slip_serial(value: Any) -> int:
    raw = " ".join(cells.text(value).split())
    match = _SLIP_NO.fullmatch(raw)
    if match is None:
        raise CellProblem(
            _("“{value}” is not a slip number; write it as printed, e.g. No. 000123.").format(
                value=raw
            )
        )
    return int(match[1])


def _redeemed_slip(row: RowCheck, ref: Reference) -> int | None:
    """The row's slip serial when the slip exists and was redeemed (else an issue)."""
    serial = row.get("slip", _slip_serial, required=True)
    if serial is None:
        return None
    found = ref.slips.get(serial)
    if found is None:
        row.issue(
            "slip",
            _("There is no slip No. {serial:06d} in this event.").format(serial=serial),
        )
        return None
    if found[0] != SlipStatus.REDEEMED:
        row.issue(
            "slip",
            _("Slip No. {serial:06d} was never redeemed; only a redeemed slip is recorded.").format(
                serial=serial
            ),
        )
        return None
    return serial


@dataclass(frozen=True)
class DeliveryRecord:
    row: int
    serial: int
    delivered_at: datetime  # UTC


SLIP_FIELD = Field(
    "slip",
    "Slip no.",
    "兑换券号",
    "The slip's number as printed, e.g. No. 000123.",
    True,
    ("slip", "serial", "slip serial", "slip number", "券号", "兑换券", "兑换券编号", "序号"),
    text_column=True,
)

DELIVERY_FIELDS = (
    SLIP_FIELD,
    Field(
        "delivered_at",
        "Delivered at",
        "服务完成时间",
        "Required: the date, or the date and time, the service was delivered, e.g. "
        "2026-12-05 15:30.",
        True,
        ("delivered on", "delivered", "完成时间", "服务日期", "服务完成日期", "交付时间"),
    ),
    Field(
        "merchant",
        "Merchant",
        "商户",
        "Optional: the merchant's code or name; every slip must be that merchant's.",
        aliases=("merchant code", "商户代码", "商户编号", "商户名称"),
    ),
)


def check_delivery(row: RowCheck, ref: Reference) -> DeliveryRecord | None:
    serial = _redeemed_slip(row, ref)
    if row.has("merchant"):
        written = cells.text(row.raw("merchant"))
        names = {unicodedata.normalize("NFKC", n).lower(): c for c, n in ref.merchants.items()}
        code = (
            written.upper()
            if written.upper() in ref.merchants
            else names.get(unicodedata.normalize("NFKC", written).lower())
        )
        if code is None:
            row.issue(
                "merchant",
                _("{value} is not a merchant of this event.").format(value=written),
            )
        elif serial is not None and ref.slips[serial][1] != code:
            row.issue(
                "slip",
                _("Slip No. {serial:06d} is for merchant {other}, not {code}.").format(
                    serial=serial, other=ref.slips[serial][1], code=code
                ),
            )
    zone = ZoneInfo(ref.timezone)
    delivered_at = row.get("delivered_at", lambda v: cells.moment(v, zone), required=True)
    if not row.ok or serial is None or delivered_at is None:
        return None
    return DeliveryRecord(row.number, serial, delivered_at)


@dataclass(frozen=True)
class CallRecord:
    row: int
    serial: int
    score: int | None
    category: str | None  # FeedbackCategory
    complaint: str
    called_at: datetime | None  # UTC; None: when imported


def _score(value: Any) -> int:
    number = cells.whole_number(value)
    if not 1 <= number <= 5:
        raise CellProblem(_("A score is 1 to 5, not {value}.").format(value=number))
    return number


CALL_FIELDS = (
    SLIP_FIELD,
    Field(
        "score",
        "Score (1-5)",
        "满意度评分",
        "1 (very unhappy) to 5 (very happy); blank if not reached.",
        aliases=("score", "评分", "满意度", "分数"),
        choices=("1", "2", "3", "4", "5"),
    ),
    Field(
        "category",
        "Complaint category",
        "问题类别",
        "拒绝服务 / 附加条件 / 服务质量差 / 其他; blank without a complaint.",
        aliases=("category", "类别", "投诉类别", "问题类型"),
        choices=tuple(FEEDBACK_CATEGORY_ZH.values()),
    ),
    Field(
        "complaint",
        "Complaint",
        "投诉内容",
        "What the customer said, in their words.",
        aliases=("complaint", "投诉", "意见", "客户意见", "备注"),
    ),
    Field(
        "called_on",
        "Called on",
        "回访日期",
        "The day (and time) of the call; blank: the day of the import.",
        aliases=("called", "call date", "回访时间", "回访日"),
    ),
)


def check_call(row: RowCheck, ref: Reference) -> CallRecord | None:
    """A call list row: nothing to record until the caller filled in a score, a category
    or a complaint; then the slip must have been redeemed."""
    said = [name for name in ("score", "category", "complaint") if row.has(name)]
    if not said:
        if row.has("slip"):
            row.get("slip", _slip_serial)  # a mistyped number is still named
        return None
    serial = _redeemed_slip(row, ref)
    score = row.get("score", _score)
    category = row.get(
        "category", _choice(FEEDBACK_CATEGORY_OPTIONS, lambda: _("complaint category"))
    )
    complaint = row.get("complaint", _text(500, prose=True)) or ""
    zone = ZoneInfo(ref.timezone)
    called_at = row.get("called_on", lambda v: cells.moment(v, zone))
    if not row.ok or serial is None:
        return None
    if complaint and category is None:
        category = FeedbackCategory.OTHER
    return CallRecord(row.number, serial, score, category, complaint, called_at)


# --- the RMs' follow-up workbooks, filled in (issue #21) ------------------------------------


@dataclass(frozen=True, slots=True)
class FollowupRecord:
    row: int
    customer_no: str
    rm_no: str  # "" for the list of the customers without an RM
    stage: str  # FollowupStage
    contacted_on: date
    channel: str | None  # ContactChannel
    outcome: str  # FollowupOutcome
    note: str


# The Chinese labels the workbook's drop-downs offer (whatever the app's language) and the
# import reads back; the codes and the English labels are read too.
FOLLOWUP_STAGE_ZH = {
    FollowupStage.NO_SHOW: "邀约未到场",
    FollowupStage.NO_SLIP: "到场未领券",
    FollowupStage.UNREDEEMED: "兑换券未核销",
    FollowupStage.REDEEMED: "已核销",
    FollowupStage.REACTIVATED: "睡眠户激活",
    FollowupStage.MOBILE_BANKING: "现场开通手机银行",
}
FOLLOWUP_OUTCOME_ZH = {
    FollowupOutcome.REACHED: "已沟通",
    FollowupOutcome.APPOINTMENT: "已预约",
    FollowupOutcome.BUSINESS: "已办理业务",
    FollowupOutcome.DECLINED: "无意向",
    FollowupOutcome.UNREACHABLE: "未联系上",
}
FOLLOWUP_STAGE_OPTIONS = _options(
    {
        FollowupStage.NO_SHOW: (FOLLOWUP_STAGE_ZH[FollowupStage.NO_SHOW], "invited, did not come"),
        FollowupStage.NO_SLIP: (FOLLOWUP_STAGE_ZH[FollowupStage.NO_SLIP], "came, no slip"),
        FollowupStage.UNREDEEMED: (
            FOLLOWUP_STAGE_ZH[FollowupStage.UNREDEEMED],
            "slips not yet redeemed",
        ),
        FollowupStage.REDEEMED: (FOLLOWUP_STAGE_ZH[FollowupStage.REDEEMED], "redeemed"),
        FollowupStage.REACTIVATED: (
            FOLLOWUP_STAGE_ZH[FollowupStage.REACTIVATED],
            "dormant, reactivated",
        ),
        FollowupStage.MOBILE_BANKING: (
            FOLLOWUP_STAGE_ZH[FollowupStage.MOBILE_BANKING],
            "mobile banking opened at the event",
        ),
    }
)
FOLLOWUP_OUTCOME_OPTIONS = _options(
    {
        FollowupOutcome.REACHED: (
            FOLLOWUP_OUTCOME_ZH[FollowupOutcome.REACHED],
            "spoke with the customer",
            "已联系",
            "联系上",
        ),
        FollowupOutcome.APPOINTMENT: (
            FOLLOWUP_OUTCOME_ZH[FollowupOutcome.APPOINTMENT],
            "appointment made",
            "预约",
        ),
        FollowupOutcome.BUSINESS: (
            FOLLOWUP_OUTCOME_ZH[FollowupOutcome.BUSINESS],
            "business done",
            "成交",
            "已成交",
        ),
        FollowupOutcome.DECLINED: (
            FOLLOWUP_OUTCOME_ZH[FollowupOutcome.DECLINED],
            "not interested",
            "拒绝",
        ),
        FollowupOutcome.UNREACHABLE: (
            FOLLOWUP_OUTCOME_ZH[FollowupOutcome.UNREACHABLE],
            "could not reach",
            "未接通",
            "联系不上",
        ),
    }
)
_READ_ONLY = "For reading only; not imported."

FOLLOWUP_FIELDS = (
    Field(
        "rm_no",
        "RM staff no.",
        "客户经理工号",
        "The RM whose list the workbook is (blank: customers without an RM).",
        aliases=("客户经理", "rm"),
        text_column=True,
        code_column=True,
    ),
    Field(
        "customer_no",
        "Customer no.",
        "客户号",
        "Required: a customer on the RM's follow-up list.",
        True,
        CUSTOMER_NO_SPELLINGS,
        text_column=True,
        code_column=True,
    ),
    Field(
        "stage",
        "Follow-up group",
        "跟进分组",
        "The group the row belongs to, as exported.",
        True,
        ("分组", "group", "stage"),
    ),
    Field("name", "Customer", "客户", _READ_ONLY, aliases=("姓名", "客户姓名")),
    Field("phone", "Mobile phone", "手机号", _READ_ONLY, aliases=("号码",)),
    Field("branch", "Branch", "网点", _READ_ONLY),
    Field("detail", "Details", "情况说明", _READ_ONLY, aliases=("说明",)),
    Field("redeem_by", "Redeem by", "兑换截止", _READ_ONLY),
    Field("last", "Last follow-up", "上次跟进", _READ_ONLY),
    Field("action", "Suggested next action", "建议跟进", _READ_ONLY, aliases=("建议",)),
    Field(
        "contacted_on",
        "Contacted on",
        "联系日期",
        "The day you contacted the customer; blank: not contacted yet.",
        aliases=("date", "日期", "跟进日期"),
        date_column=True,
    ),
    Field(
        "channel",
        "Channel",
        "联系方式",
        "短信 / 电话 / 微信 / 网点 / 线上",
        aliases=("方式", "跟进方式"),
        choices=("短信", "电话", "微信", "网点", "线上"),
    ),
    Field(
        "outcome",
        "Outcome",
        "跟进结果",
        " / ".join(FOLLOWUP_OUTCOME_ZH.values()),
        aliases=("结果",),
        choices=tuple(FOLLOWUP_OUTCOME_ZH.values()),
    ),
    Field("note", "Note", "备注", "Optional, at most 300 characters.", aliases=("notes",)),
)
FILL_IN = ("contacted_on", "channel", "outcome", "note")


def check_followup(row: RowCheck, ref: Reference) -> FollowupRecord | None:
    """A filled row of an RM's follow-up workbook; a row not filled in (not contacted yet)
    is skipped. The customer must be on the list of the row's RM, in the row's group."""
    if not any(row.has(name) for name in FILL_IN):
        return None
    customer_no = row.get("customer_no", _code, required=True)
    rm_no = row.get("rm_no", _code) or ""
    stage = row.get(
        "stage", _choice(FOLLOWUP_STAGE_OPTIONS, lambda: _("follow-up group")), required=True
    )
    listed = ref.followup.get(customer_no) if customer_no else None
    if customer_no and listed is None:
        row.issue(
            "customer_no",
            _("{value} is on no follow-up list of this event.").format(value=customer_no),
        )
    elif listed is not None:
        owner, stages = listed
        if rm_no and rm_no not in ref.staff:
            row.issue("rm_no", _("There is no member of staff “{value}”.").format(value=rm_no))
        elif rm_no != owner:
            row.issue(
                "customer_no",
                (
                    _("Customer {customer} is on {owner}'s follow-up list, not {rm}'s.")
                    if owner
                    else _("Customer {customer} has no RM: they are on the coordinator's list.")
                ).format(customer=customer_no, owner=owner, rm=rm_no or _("(no RM)")),
            )
        if stage and stage not in stages:
            row.issue(
                "stage",
                _("Customer {customer} is not in this group; their groups: {groups}.").format(
                    customer=customer_no,
                    groups="、".join(FOLLOWUP_STAGE_ZH[s] for s in FollowupStage if s in stages),
                ),
            )
    contacted_on = row.get("contacted_on", cells.day, required=True)
    if contacted_on is not None:
        if ref.today is not None and contacted_on > ref.today:
            row.issue(
                "contacted_on",
                _("{day} is in the future.").format(day=contacted_on.isoformat()),
            )
        elif ref.event_date is not None and contacted_on < ref.event_date:
            row.issue(
                "contacted_on",
                _("{day} is before the event ({event}): a follow-up comes after it.").format(
                    day=contacted_on.isoformat(), event=ref.event_date.isoformat()
                ),
            )
    channel = row.get("channel", _choice(CHANNEL_OPTIONS, lambda: _("channel")))
    outcome = row.get(
        "outcome",
        _choice(FOLLOWUP_OUTCOME_OPTIONS, lambda: _("follow-up outcome")),
        required=True,
    )
    note = row.get("note", _text(300, prose=True)) or ""
    if not row.ok:
        return None
    return FollowupRecord(
        row.number, customer_no, rm_no, stage, contacted_on, channel, outcome, note
    )


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    check: Callable[[RowCheck, Reference], Any]
    key: Callable[[Any], tuple[tuple[str, str], ...]]  # (field, value) pairs unique per file


KINDS: dict[str, Kind] = {
    "branches": Kind("branches", BRANCH_FIELDS, check_branch, lambda r: (("code", r.code),)),
    "staff": Kind("staff", STAFF_FIELDS, check_staff, lambda r: (("staff_no", r.staff_no),)),
    "tiers": Kind(
        "tiers",
        TIER_FIELDS,
        check_tier,
        lambda r: (("code", r.code), ("name", unicodedata.normalize("NFKC", r.name).lower())),
    ),
    "catalog": Kind("catalog", CATALOG_FIELDS, check_offer, lambda r: (("code", r.code),)),
    # The customer list (客户名单): customers a themed session's audience is chosen from,
    # not invited yet (``kiosk.services.themes``).
    "customers": Kind(
        "customers",
        CUSTOMER_FIELDS,
        check_customer,
        lambda r: (
            (("customer_no", r.customer_no),)
            + ((("id_number", r.id_number),) if r.id_number else ())
        ),
    ),
    "invitees": Kind(
        "invitees",
        INVITEE_FIELDS,
        check_invitee,
        lambda r: (
            (("customer_no", r.customer_no),)
            + ((("id_number", r.id_number),) if r.id_number else ())
        ),
    ),
    "invitations": Kind(
        "invitations",
        INVITATION_FIELDS,
        check_answer,
        # A report may hold several contacts with one customer (an SMS, then a call), one per
        # day and channel: the history keeps each.
        lambda r: (("customer_no", f"{r.customer_no} {r.invited_on} {r.channel}"),),
    ),
    # A customer may be sent the reminder twice (a failure, then a success): no key.
    "reminder_report": Kind("reminder_report", REMINDER_REPORT_FIELDS, check_send, lambda r: ()),
    # After the event (issue #21): a merchant's file of services delivered, one row a slip,
    # and the satisfaction call list (``kiosk export calls``) filled in and read back.
    "deliveries": Kind(
        "deliveries", DELIVERY_FIELDS, check_delivery, lambda r: (("slip", str(r.serial)),)
    ),
    "feedback": Kind("feedback", CALL_FIELDS, check_call, lambda r: (("slip", str(r.serial)),)),
    # An RM may report two contacts with one customer in one group (a call, then a visit):
    # no key; the fingerprints keep a row imported twice once.
    "followup": Kind("followup", FOLLOWUP_FIELDS, check_followup, lambda r: ()),
}
# The order a coordinator imports in: each refers to what the ones before created.
ORDER = ("branches", "staff", "tiers", "catalog", "customers", "invitees", "invitations")
# Reports other systems write (no template: their own columns, recognised by header).
REPORTS = ("reminder_report", "followup", "deliveries", "feedback")
IMPORTABLE = ORDER + REPORTS
