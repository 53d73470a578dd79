"""The day's route pack: a cover listing the planned visits, then each visit's brief."""

from __future__ import annotations

from reportlab.platypus import Flowable, PageBreak, Spacer

from fieldrep.i18n import _, ngettext
from fieldrep.reports import brief
from fieldrep.reports.data import RoutePack
from fieldrep.reports.formatting import format_bool, format_date, format_time
from fieldrep.reports.layout import HeaderTitle, data_table, section, styles, text


def title(pack: RoutePack) -> str:
    return _("Route pack {day}").format(day=format_date(pack.day))


def story(pack: RoutePack) -> list[Flowable]:
    """The cover page, then one brief per stop, each starting on a new page."""
    st = styles()
    count = len(pack.briefs)
    parts: list[Flowable] = [
        HeaderTitle(title(pack), outline=True),
        Spacer(1, 18),
        text(_("Route pack"), st.cover_title),
        text(format_date(pack.day), st.title),
        text(
            " · ".join(
                part
                for part in (
                    "、".join(pack.rep_names),
                    ngettext("{count} visit", "{count} visits", count).format(count=count),
                )
                if part
            ),
            st.subtitle,
        ),
        *section(_("Today's visits in route order")),
        data_table(
            [
                "#",
                _("Time"),
                _("Dealer"),
                _("Address"),
                _("Visit type"),
                _("Objective"),
                _("Appointment confirmed"),
            ],
            [
                [
                    str(number),
                    format_time(stop.time_slot),
                    stop.dealer_name,
                    stop.dealer_address or "",
                    stop.visit_type.label,
                    stop.objective or "",
                    format_bool(stop.appointment_confirmed),
                ]
                for number, stop in enumerate(pack.stops, start=1)
            ],
            [0.35, 0.65, 1.8, 2.0, 1.0, 2.1, 1.1],
        ),
    ]
    for number, dealer_brief in enumerate(pack.briefs, start=1):
        parts.append(PageBreak())
        parts.append(
            HeaderTitle(
                f"{number}. {brief.title()} · {dealer_brief.header.name}",
                outline=True,
            )
        )
        parts.extend(brief.story(dealer_brief, stop_number=number))
    return parts
