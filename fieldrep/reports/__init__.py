"""Printouts: visit summaries, pre-visit briefs, dealer cards, reports and route packs.

Built on reportlab with the bundled CJK font embedded; no Qt here. The GUI and
the CLI call the ``render_*`` functions, which return PDF bytes.
"""

from fieldrep.reports.api import (
    render_brief,
    render_dealer_card,
    render_mgmt_report,
    render_route_pack,
    render_visit_summary,
    write_pdf,
)
from fieldrep.reports.data import NothingToPrint

__all__ = [
    "NothingToPrint",
    "render_brief",
    "render_dealer_card",
    "render_mgmt_report",
    "render_route_pack",
    "render_visit_summary",
    "write_pdf",
]
