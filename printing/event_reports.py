"""The event reports laid out as ``printing.reports.Report``: sections with tables and charts.

The contents come from ``kiosk.services.reports`` (the same figures as the dashboard); here
they only get headings (Chinese by default, through ``_``), column order and charts.
``REPORTS`` names each report for the CLI (``kiosk report NAME``) and the app's buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.clock import Clock
from kiosk.i18n import _
from kiosk.labels import queue_label
from kiosk.services import reports
from kiosk.services.figures import (
    FUNNELS,
    Attendance,
    EventFigures,
    Funnel,
    Stage,
    interval_label,
    stage_label,
    step_count_label,
)
from kiosk.services.reports import EventHeading
from kiosk.uow import UnitOfWork
from printing.reports import Chart, Minutes, Percent, Report, Section, write_report


def _percent(numerator: int, denominator: int) -> Percent | str:
    return Percent(numerator / denominator) if denominator else ""


def _minutes(seconds: int | None) -> Minutes | str:
    return Minutes(seconds / 60) if seconds is not None else ""


def _subtitle(code: str, name: str, day: object, venue: str, at: datetime, zone: str) -> str:
    """The event's name, date, venue and code; when the figures were taken is the as-of line
    (``as_of_line``), with the event's state."""
    return _("{name} · {date} · {venue} · event code {code}").format(
        name=name, date=day, venue=venue, code=code
    )


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A moment as the event's local time without a zone: a date-time cell in Excel (which
    has no zones), printed with its year."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _heading_subtitle(h: EventHeading) -> str:
    return _subtitle(h.code, h.name, h.event_date, h.venue, h.at, h.timezone)


def _attendance_headers(first: list[str]) -> list[str]:
    return [
        *first,
        stage_label(Stage.INVITED),
        stage_label(Stage.CONFIRMED),
        stage_label(Stage.CONFIRMED_ARRIVED),
        stage_label(Stage.ARRIVED),
        _("Data governed"),
        _("Mobile banking opened"),
        _("Mobile banking activated"),
        _("Charity scan-pay"),
        stage_label(Stage.SLIPS_ISSUED),
        _("Points issued"),
        _("Points redeemed"),
    ]


def _attendance_figures(row: Attendance) -> list[object]:
    return [
        row.invited,
        row.confirmed,
        row.confirmed_arrived,
        row.arrived,
        row.governed,
        row.mobile_banking_opened,
        row.mobile_banking_activated,
        row.scan_pay,
        row.slips_issued,
        row.points_issued,
        row.points_redeemed,
    ]


# -- the event summary ------------------------------------------------------------------------


def funnel_title(which: Funnel) -> str:
    return {
        Funnel.INVITATIONS: _("Invitation funnel"),
        Funnel.DAY: _("Funnel of the day"),
    }[which]


def summary_report(f: EventFigures) -> Report:
    """The funnel, points, coverage, slots, arrivals over the day, branches, timelines, queues."""
    zone = ZoneInfo(f.timezone)
    total = f.total
    # Two true funnels, each a section with its own chart (one chart of both would show
    # "arrived" above "confirmed and came", as if a funnel rose): each stage a subset of the
    # one before, with its share of that stage.
    funnels: dict[Funnel, list[list[object]]] = {}
    for which, stages in FUNNELS.items():
        rows: list[list[object]] = [[_("Stage"), _("Customers"), _("% of the stage before")]]
        before: int | None = None
        for stage in stages:
            n = total.stage(stage)
            rows.append([stage_label(stage), n, "" if before is None else _percent(n, before)])
            before = n
        funnels[which] = rows
    steps: list[list[object]] = [[_("Step"), _("Customers"), _("% of the arrived")]]
    for step, n in total.steps():
        steps.append([step_count_label(step), n, _percent(n, total.arrived)])
    p = f.points
    stock = p.stock
    assert stock is not None, "the summary reads every customer's points"
    points: list[list[object]] = [
        [_("Item"), _("Value")],
        [_("Points redeemed at merchants"), total.points_redeemed],
        [_("Points issued on slips"), total.points_issued],
        [_("Points of every customer (spendable on the event day)"), stock.customers_stock],
        [_("Customers in the event database"), stock.customers],
        [
            _("Redemption ratio as the bank counts it (redeemed / every customer's points)"),
            _percent(p.redeemed, stock.customers_stock),
        ],
        [
            _("Bank's whole points stock"),
            p.bank_stock if p.bank_stock is not None else _("not given"),
        ],
        [
            _("Redeemed / bank's whole stock"),
            _percent(p.redeemed, p.bank_stock) if p.bank_stock else "",
        ],
        [_("Points stock of the invitees"), total.points_stock],
        [
            _("Invitees' redemption ratio (redeemed / invitees' points; not the bank's)"),
            _percent(total.points_redeemed, total.points_stock),
        ],
        [_("Issued / invitees' points"), _percent(total.points_issued, total.points_stock)],
        [
            _("Invitees' points expiring before the next event ({start} to {end})").format(
                start=stock.expiring_from.isoformat(),
                end=(stock.expiring_before - timedelta(days=1)).isoformat(),
            ),
            stock.expiring_points,
        ],
        [_("Invitees with points expiring before the next event"), stock.expiring_customers],
        [_("Dormant customers reactivated"), total.dormant_reactivated],
        [_("Dormant customers who came"), total.dormant_arrived],
        [_("Slips issued"), total.slips],
        [_("Slips redeemed"), total.slips_redeemed],
        [_("Walk-ins"), total.walk_ins],
    ]
    tiers: list[list[object]] = [
        [_("Tier"), _("Customers"), _("Slips redeemed"), _("Points redeemed"), _("Share")]
    ]
    for tier in p.tiers:
        tiers.append(
            [tier.name, tier.customers, tier.slips, tier.points, _percent(tier.points, p.redeemed)]
        )
    tiers.append(
        [
            _("Total"),
            total.redeemed,  # each customer once
            sum(t.slips for t in p.tiers),
            sum(t.points for t in p.tiers),
            _percent(sum(t.points for t in p.tiers), p.redeemed),
        ]
    )
    cover: list[list[object]] = [[_("Measure"), _("Customers"), _("Of"), _("Share")]]
    for ratio in f.coverage:
        cover.append(
            [
                ratio.label,
                ratio.numerator,
                ratio.denominator,
                _percent(ratio.numerator, ratio.denominator),
            ]
        )
    slots: list[list[object]] = [
        [
            _("Slot"),
            _("Time"),
            _("Capacity"),
            _("Invited"),
            _("Expected"),
            _("Arrived"),
            _("Early"),
            _("On time"),
            _("Late"),
            _("Companions"),
            _("% of expected"),
        ]
    ]
    for s in f.slots:
        slots.append(
            [
                s.label,
                f"{s.starts_at.astimezone(zone):%H:%M}–{s.ends_at.astimezone(zone):%H:%M}",
                s.capacity,
                s.invited,
                s.expected,
                s.arrived,
                s.early,
                s.on_time,
                s.late,
                s.companions,
                _percent(s.arrived, s.expected),
            ]
        )
    if total.walk_ins:
        slots.append([_("Walk-ins"), "", "", "", "", total.walk_ins, "", "", "", "", ""])
    arrivals: list[list[object]] = [[_("From"), _("Check-ins")]]
    for bucket in f.arrivals:
        arrivals.append([bucket.starts_at.astimezone(zone).strftime("%H:%M"), bucket.arrivals])
    branches: list[list[object]] = [_attendance_headers([_("Branch"), _("Branch name")])]
    for b in f.branches:
        branches.append([b.code, b.name, *_attendance_figures(b)])
    branches.append([_("Total"), "", *_attendance_figures(total)])
    timelines: list[list[object]] = [
        [_("Between"), _("Slot"), _("Visits"), _("Median (min)"), _("90th percentile (min)")]
    ]
    for t in f.timelines:
        timelines.append(
            [
                interval_label(t.interval),
                f.slot_label(t.slot),
                t.count,
                _minutes(t.median_s),
                _minutes(t.p90_s),
            ]
        )
    queues: list[list[object]] = [
        [_("Queue"), _("Waiting"), _("Being served"), _("Served"), _("Longest wait (min)")]
    ]
    for q in f.queues:
        queues.append([queue_label(q.queue), q.waiting, q.in_service, q.served, q.wait_minutes])
    return Report(
        _("Event summary"),
        _subtitle(f.event_code, f.event_name, f.event_date, f.venue, f.at, f.timezone),
        [
            Section(
                funnel_title(Funnel.INVITATIONS),
                funnels[Funnel.INVITATIONS],
                Chart(_("Customers per stage"), (1,)),
                _(
                    "Every invitation, declined included. Each stage is part of the stage "
                    "before it."
                ),
            ),
            Section(
                funnel_title(Funnel.DAY),
                funnels[Funnel.DAY],
                Chart(_("Customers per stage"), (1,)),
                _(
                    "Everyone who checked in, walk-ins and invitees who never confirmed "
                    "included. Each stage is part of the stage before it."
                ),
            ),
            Section(
                _("Steps at the desks"),
                steps,
                note=_(
                    "Visits with each step, of all arrivals. Not a funnel: a customer whose "
                    "data was complete is never governed, and most customers had mobile "
                    "banking before the day."
                ),
            ),
            Section(
                _("Points"),
                points,
                note=_(
                    "Compare the bank's ratio (every customer's points, or the bank's whole "
                    "stock) with the bank's own figure, never the invitees' ratio: it divides "
                    "by the invitees' points only. Expiring points are what is left of the "
                    "invitees' lots after the event's slips. Reactivated: dormant customers "
                    "who logged in to mobile banking at the activation desk."
                ),
            ),
            Section(
                _("Points redeemed per tier"),
                tiers,
                Chart(_("Points redeemed per tier"), (3,), skip_last=True),
                _(
                    "The customer's event tier when the slip was issued. A customer whose tier "
                    "changed between two slips counts in both tiers, once in the total."
                ),
            ),
            Section(_("Coverage"), cover),
            Section(
                _("Attendance by slot"),
                slots,
                Chart(
                    _("Expected and arrived per slot"),
                    (4, 5),
                    kind="column",
                    skip_last=bool(total.walk_ins),
                ),
                _(
                    "Early: before the slot less 30 minutes; late: after the slot ended. "
                    "Expected: confirmed invitations."
                ),
            ),
            Section(
                _("Arrivals over the day"),
                arrivals,
                Chart(_("Check-ins per half hour"), (1,), kind="column"),
                _("The first half hour also counts earlier check-ins."),
            ),
            Section(
                _("Attendance by branch"),
                branches,
                Chart(
                    _("Confirmed, and of them who came, per branch"),
                    (3, 4),
                    labels=1,
                    kind="column",
                    skip_last=True,
                ),
            ),
            Section(
                _("Visit timelines"),
                timelines,
                note=_(
                    "Nearest-rank percentiles over each visit's first call at a desk; the "
                    "redemption is the first one a booth reported."
                ),
            ),
            Section(_("Queues"), queues),
        ],
    )


# -- invitation progress ----------------------------------------------------------------------


def progress_report(data: reports.InvitationProgress) -> Report:
    from printing.invitations import call_rule_text, coverage_sheets, progress_sheets

    (branch_title, branch_rows), (rm_title, rm_rows) = progress_sheets(data.progress)
    coverage: list[Section] = []
    if data.progress.coverage is not None:
        (cb_title, cb_rows), (cr_title, cr_rows), (miss_title, miss_rows) = coverage_sheets(
            data.progress.coverage
        )
        rule = call_rule_text(data.progress.coverage)
        coverage = [
            Section(
                cb_title,
                cb_rows,
                Chart(_("Contacted and called per branch"), (3, 5), labels=1, skip_last=True),
                note=rule,
            ),
            Section(cr_title, cr_rows, note=rule),
            Section(miss_title, miss_rows, note=rule),
        ]
    # Columns: code, name, invitees, invited, reached, unreachable, confirmed, ... target.
    return Report(
        _("Invitation progress"),
        _heading_subtitle(data.heading),
        [
            Section(
                branch_title,
                branch_rows,
                Chart(
                    _("Confirmed against the target"),
                    (6, 9),
                    labels=1,
                    kind="column",
                    skip_last=True,
                ),
                note=_("A branch without a target has no target bar."),
            ),
            Section(rm_title, rm_rows, Chart(_("Invited and confirmed per RM"), (4, 7), labels=1)),
            *coverage,
        ],
    )


# -- per RM -----------------------------------------------------------------------------------


def rm_report(data: reports.RmPerformance) -> Report:
    rows: list[list[object]] = [_attendance_headers([_("RM staff no."), _("RM"), _("Branch")])]
    for r in data.rms:
        rows.append([r.code, r.name, r.branch, *_attendance_figures(r)])
    rows.append([_("Total"), "", "", *_attendance_figures(data.total)])
    ranking: list[list[object]] = [
        [
            _("RM staff no."),
            _("RM"),
            _("Branch"),
            stage_label(Stage.INVITED),
            stage_label(Stage.CONFIRMED),
            stage_label(Stage.ARRIVED),
            _("Redeemed"),
            _("Invited for another RM"),
            _("Own customers invited by another RM"),
            _("Rank: invited"),
            _("Rank: confirmed"),
            _("Rank: arrived"),
            _("Rank: redeemed"),
        ]
    ]
    for k in data.ranking:
        ranking.append(
            [
                k.staff_no,
                k.name,
                k.branch,
                k.invited,
                k.confirmed,
                k.arrived,
                k.redeemed,
                k.for_others,
                k.by_others,
                *k.ranks,
            ]
        )
    credited: list[list[object]] = [
        [
            _("Customer no."),
            _("Customer"),
            _("Branch"),
            _("Inviting RM"),
            _("Owning RM"),
            _("Status"),
            _("Arrived"),
            _("Redeemed"),
        ]
    ]
    yes, no = _("yes"), _("no")
    for c in data.credited:
        credited.append(
            [
                c.customer_no,
                c.masked_name,
                c.branch,
                f"{c.inviting_no} {c.inviting_name}",
                f"{c.owning_no} {c.owning_name}" if c.owning_no else _("(no RM)"),
                _invitation_status(c.status),
                yes if c.arrived else no,
                yes if c.redeemed else no,
            ]
        )
    return Report(
        _("Performance per RM"),
        _heading_subtitle(data.heading),
        [
            Section(
                _("Per RM"),
                rows,
                Chart(_("Invited and arrived per RM"), (3, 6), labels=1, skip_last=True),
                _(
                    "An RM's customers are those they invited, also another RM's customers "
                    "(by their invitation code or their call), else those they look after."
                ),
            ),
            Section(
                _("Ranking"),
                ranking,
                Chart(_("Confirmed and arrived per RM"), (4, 5), labels=1),
                _("Ranked by invited, then confirmed, arrived and redeemed."),
            ),
            Section(
                _("Invited by another RM"),
                credited,
                note=_("Customers credited to an RM who is not their own; names masked."),
            ),
        ],
    )


def _invitation_status(status: str) -> str:
    return {
        "invited": _("Invited, no answer yet"),
        "confirmed": stage_label(Stage.CONFIRMED),
        "declined": _("Declined"),
    }.get(status, status)


# -- merchants --------------------------------------------------------------------------------


def merchant_report(data: reports.MerchantRedemptions) -> Report:
    zone = ZoneInfo(data.heading.timezone)
    offers: list[list[object]] = [
        [
            _("Merchant"),
            _("Service"),
            _("Points price"),
            _("Capacity"),
            _("Taken"),
            _("Left"),
            _("Redeemed"),
            _("Points redeemed"),
            _("Redeemed of taken"),
        ]
    ]
    for o in data.offers:
        offers.append(
            [
                f"{o.merchant_code} {o.merchant_name}",
                f"{o.code} {o.name}",
                o.points_price,
                o.capacity,
                o.reserved,
                o.remaining,
                o.redeemed,
                o.redeemed_points,
                _percent(o.redeemed, o.reserved),
            ]
        )
    offers.append(
        [
            _("Total"),
            "",
            "",
            sum(o.capacity for o in data.offers),
            sum(o.reserved for o in data.offers),
            sum(o.remaining for o in data.offers),
            sum(o.redeemed for o in data.offers),
            sum(o.redeemed_points for o in data.offers),
            _percent(sum(o.redeemed for o in data.offers), sum(o.reserved for o in data.offers)),
        ]
    )
    detail: list[list[object]] = [
        [
            _("Redeemed at"),
            _("Merchant"),
            _("Booth"),
            _("No."),
            _("Slip"),
            _("Service"),
            _("Quantity"),
            _("Points"),
            _("Staff"),
            _("Conflict"),
        ]
    ]
    from kiosk.services.booths import conflict_label

    for r in data.redemptions:
        detail.append(
            [
                _local(r.redeemed_at, zone),
                f"{r.merchant_code} {r.merchant_name}",
                r.booth_label or r.booth_id[:8],  # the venue's label (A1); the device if none
                r.booth_seq,
                f"{r.serial:06d}",
                f"{r.offer_code} {r.offer_name}",
                r.quantity,
                r.points,
                r.staff_name,
                conflict_label(r.conflict) if r.conflict else "",
            ]
        )
    return Report(
        _("Merchant redemptions"),
        _heading_subtitle(data.heading),
        [
            Section(
                _("Per service"),
                offers,
                Chart(_("Taken and redeemed per service"), (4, 6), labels=1, skip_last=True),
            ),
            Section(
                _("Redemptions"),
                detail,
                note=_("Times are the booths' clocks. A conflict is kept, never paid twice."),
            ),
        ],
    )


# -- unredeemed slips -------------------------------------------------------------------------


def unredeemed_report(data: reports.Unredeemed) -> Report:
    zone = ZoneInfo(data.heading.timezone)
    rows: list[list[object]] = [
        [
            _("Slip"),
            _("Status"),
            _("Branch"),
            _("RM"),
            _("Customer no."),
            _("Customer"),
            _("Merchant"),
            _("Service"),
            _("Quantity"),
            _("Points"),
            _("Issued at"),
            _("Redeem by"),
        ]
    ]
    status = {"issued": _("open"), "released": _("released")}
    for u in data.slips:
        rows.append(
            [
                f"{u.serial:06d}",
                status.get(u.status, u.status),
                u.branch,
                u.rm,
                u.customer_no,
                u.masked_name,
                u.merchant,
                u.offer,
                u.quantity,
                u.points,
                _local(u.issued_at, zone),
                u.redeem_by,
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            sum(u.quantity for u in data.slips),
            data.points,
            "",
            "",
        ]
    )
    per_merchant: dict[str, list[int]] = {}
    for u in data.slips:
        entry = per_merchant.setdefault(u.merchant, [0, 0])
        entry[0] += 1
        entry[1] += u.points
    merchants: list[list[object]] = [[_("Merchant"), _("Slips"), _("Points")]]
    merchants += [[name, n, p] for name, (n, p) in sorted(per_merchant.items())]
    return Report(
        _("Unredeemed slips"),
        _heading_subtitle(data.heading),
        [
            Section(
                _("Slips"),
                rows,
                note=_("Names are masked. Open slips can still be redeemed until the date shown."),
            ),
            Section(
                _("Per merchant"),
                merchants,
                Chart(_("Unredeemed slips per merchant"), (1,)),
            ),
        ],
    )


# -- by name ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportKind:
    name: str  # for the CLI and file names
    title: Callable[[], str]
    build: Callable[[UnitOfWork, Clock | None], Report]


def as_of_line(heading: EventHeading) -> str:
    """ "Figures as of 2026-12-06 16:40 · event in progress" (or closed on a date), in the
    event's time zone: on every report and statement, PDF and sheet."""
    zone = ZoneInfo(heading.timezone)
    at = heading.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if heading.closed_at is None:
        state = _("event in progress")
    else:
        closed = heading.closed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        state = _("event closed at {time}").format(time=closed)
    return _("Figures as of {time} · {state}").format(time=at, state=state)


def _stamped(build: Callable[[UnitOfWork, Clock | None], Report]) -> Callable[..., Report]:
    """``build`` with the as-of line added (read in its own short transaction first)."""

    def stamped(uow: UnitOfWork, clock: Clock | None) -> Report:
        heading = reports.heading(uow, clock)
        return replace(build(uow, clock), as_of=as_of_line(heading))

    return stamped


REPORTS: list[ReportKind] = [
    ReportKind(
        "summary",
        lambda: _("Event summary"),
        _stamped(lambda uow, clock: summary_report(reports.event_summary(uow, clock=clock))),
    ),
    ReportKind(
        "progress",
        lambda: _("Invitation progress"),
        _stamped(lambda uow, clock: progress_report(reports.invitation_progress(uow, clock=clock))),
    ),
    ReportKind(
        "rm",
        lambda: _("Performance per RM"),
        _stamped(lambda uow, clock: rm_report(reports.rm_performance(uow, clock=clock))),
    ),
    ReportKind(
        "merchants",
        lambda: _("Merchant redemptions"),
        _stamped(
            lambda uow, clock: merchant_report(reports.merchant_redemptions(uow, clock=clock))
        ),
    ),
    ReportKind(
        "unredeemed",
        lambda: _("Unredeemed slips"),
        _stamped(lambda uow, clock: unredeemed_report(reports.unredeemed_slips(uow, clock=clock))),
    ),
    # Stamped already: it says whether the event was closed when it was read.
    ReportKind(
        "settlement",
        lambda: _("Merchant settlement"),
        lambda uow, clock: settlement_report(uow, clock),
    ),
]


def settlement_report(uow: UnitOfWork, clock: Clock | None = None) -> Report:
    """What each merchant is paid, in points and yuan, and the points returned; saying
    whether the event was closed when it was read (before close, open slips are not
    released yet)."""
    from kiosk.services.settlement import settlement_statement
    from printing.reports import returned_rows, settlement_rows

    heading = reports.heading(uow, clock)
    figures = settlement_statement(uow)
    title = _("Merchant settlement")
    return Report(
        title,
        _heading_subtitle(heading),
        [
            Section(
                title,
                settlement_rows(figures),
                note=_(
                    "Amounts: a service's price × quantity, else the merchant's rate × points "
                    "rounded half up to the fen per merchant and service."
                ),
            ),
            Section(_("Points returned"), returned_rows(figures)),
        ],
        _statement_as_of(heading),
    )


def reconciliation_report(uow: UnitOfWork, clock: Clock | None = None) -> tuple[Report, bool]:
    """Issued against redeemed, voided, released and open; and whether it balances and the
    audit chain accounts for every money row."""
    from kiosk.services.settlement import reconciliation
    from printing.reports import reconciliation_rows

    heading = reports.heading(uow, clock)
    figures = reconciliation(uow)
    report = Report.single(
        reconciliation_rows(figures),
        _("Reconciliation"),
        _heading_subtitle(heading),
        _statement_as_of(heading),
    )
    return report, figures.balanced and figures.accounted


def _statement_as_of(heading: EventHeading) -> str:
    """The as-of line of a money statement: before the close, open slips are not released
    yet, so the same figures read differently."""
    when = (
        _("before close: open slips not yet released")
        if heading.closed_at is None
        else _("after close: expired slips released")
    )
    return f"{as_of_line(heading)} · {when}"


def report_kind(name: str) -> ReportKind:
    return next(kind for kind in REPORTS if kind.name == name)


def write_event_report(
    name: str,
    uow_factory: Callable[[], UnitOfWork],
    folder: Path,
    *,
    suffixes: tuple[str, ...] = (".xlsx", ".pdf"),
    clock: Clock | None = None,
) -> list[Path]:
    """Write one report into the folder, as .xlsx and PDF by default; the paths written."""
    kind = report_kind(name)
    report = kind.build(uow_factory(), clock)
    return [write_report(report, folder / f"{file_stem(name)}{suffix}") for suffix in suffixes]


def file_stem(name: str) -> str:
    return f"report-{name}"
