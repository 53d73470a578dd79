"""``fieldrep print``: PDF printouts from the command line.

    fieldrep print visit RECORD_ID --out FILE.pdf
    fieldrep print brief DEALER_ID [--plan PLAN_ITEM_ID] --out FILE.pdf
    fieldrep print card DEALER_ID --out FILE.pdf
    fieldrep print route YYYY-MM-DD [--rep USER] --out FILE.pdf
    fieldrep print report week|month [--date YYYY-MM-DD]
                          [--rep USER | --territory ID ... | --manager USER] --out FILE.pdf

All take ``--db FILE`` and ``--language zh_CN|en``. Exit codes (as for every
``fieldrep`` command): 0 written; 2 bad input: an unknown id, a bad date, nothing
to print, a database FieldRep cannot use or an output file it cannot write;
1 FieldRep's own files are damaged (the bundled font is missing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from fieldrep.i18n import N_, _, normalise_language
from fieldrep.paths import default_database_path
from fieldrep.reports import (
    NothingToPrint,
    render_brief,
    render_dealer_card,
    render_mgmt_report,
    render_route_pack,
    render_visit_summary,
    write_pdf,
)
from fieldrep.reports.fonts import FontMissing
from fieldrep.storage.db import NotAFieldRepDatabase, open_database
from fieldrep.storage.enums import PeriodType, Role
from fieldrep.storage.errors import NotFound

EXIT_BROKEN_INSTALL = 1
EXIT_BAD_INPUT = 2

# What an unknown id was meant to be, by table.
ENTITY_NAMES = {
    "contact_record": N_("visit record"),
    "dealer": N_("dealer"),
    "visit_plan_item": N_("planned visit"),
    "app_user": N_("user"),
    "territory": N_("territory"),
}


class PrintFailed(Exception):
    """A print command cannot go on; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def register(subparsers: Any) -> None:
    """Add ``print`` and its documents to the ``fieldrep`` parser."""
    printing = subparsers.add_parser("print", help=_("Print a document to a PDF file"))
    documents = printing.add_subparsers(dest="document", required=True, metavar="DOCUMENT")

    visit = documents.add_parser("visit", help=_("The contact record card of one visit"))
    visit.add_argument("id", metavar="RECORD_ID", help=_("Id of the visit record"))
    _common(visit)
    visit.set_defaults(func=cmd_print_visit)

    brief = documents.add_parser("brief", help=_("The pre-visit brief of a dealer"))
    brief.add_argument("id", metavar="DEALER_ID", help=_("Id of the dealer"))
    brief.add_argument(
        "--plan", metavar="PLAN_ITEM_ID", help=_("Prepare this planned visit (default: the next)")
    )
    _common(brief)
    brief.set_defaults(func=cmd_print_brief)

    card = documents.add_parser("card", help=_("The profile card of a dealer"))
    card.add_argument("id", metavar="DEALER_ID", help=_("Id of the dealer"))
    _common(card)
    card.set_defaults(func=cmd_print_card)

    route = documents.add_parser("route", help=_("The briefs of every visit planned for a day"))
    route.add_argument("day", metavar="YYYY-MM-DD", help=_("The day of the route"))
    route.add_argument("--rep", metavar="USER", help=_("Only this rep's visits (id or user name)"))
    _common(route)
    route.set_defaults(func=cmd_print_route)

    report = documents.add_parser("report", help=_("The weekly or monthly management report"))
    report.add_argument("period", choices=("week", "month"), help=_("Week or month"))
    report.add_argument(
        "--date", metavar="YYYY-MM-DD", help=_("A day in the period (default: today)")
    )
    whose = report.add_mutually_exclusive_group()
    whose.add_argument("--rep", metavar="USER", help=_("The rep's report (id or user name)"))
    whose.add_argument(
        "--territory",
        metavar="ID",
        action="append",
        help=_("A team report of every rep in this territory (repeatable)"),
    )
    whose.add_argument(
        "--manager", metavar="USER", help=_("A team report of the territories this manager runs")
    )
    _common(report)
    report.set_defaults(func=cmd_print_report)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", metavar="FILE.pdf", type=Path, help=_("Where to write the PDF file")
    )
    parser.add_argument(
        "--db", type=Path, default=None, help=_("Database file (default: the profile's)")
    )
    # Not "--lang": a global option of that name would be overwritten by this default.
    parser.add_argument(
        "--language",
        dest="document_language",
        choices=("zh_CN", "en"),
        help=_("Language of the document (default: the interface language)"),
    )


def _engine(args: argparse.Namespace) -> Engine:
    path = Path(args.db) if args.db else default_database_path()
    try:
        return open_database(path, create=False)
    except FileNotFoundError as error:
        raise PrintFailed(
            _("The database does not exist: {path}").format(path=path), EXIT_BAD_INPUT
        ) from error
    except NotAFieldRepDatabase as error:
        raise PrintFailed(_(NotAFieldRepDatabase.message).format(path=path), EXIT_BAD_INPUT) from (
            error
        )


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise PrintFailed(
            _("{option}: must be a date like 2026-03-31, not “{text}”").format(
                option=option, text=text
            ),
            EXIT_BAD_INPUT,
        ) from error


def _language(args: argparse.Namespace) -> str | None:
    chosen = args.document_language
    return normalise_language(chosen) if chosen else None


def _run(args: argparse.Namespace, default_name: str, render: Callable[[Engine], bytes]) -> int:
    """Open the database, render, write; turn known failures into messages and exit codes."""
    try:
        engine = _engine(args)
        try:
            pdf = render(engine)
        finally:
            engine.dispose()
        out = Path(args.out) if args.out else Path.cwd() / default_name
        try:
            path = write_pdf(pdf, out)
        except OSError as error:
            raise PrintFailed(
                _("Cannot write {path}: {reason}").format(path=out, reason=error.strerror),
                EXIT_BAD_INPUT,
            ) from error
    except PrintFailed as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    except NotFound as error:
        entity = _(ENTITY_NAMES.get(error.entity, error.entity))
        print(
            _("No {entity} with id “{id}” in this database.").format(
                entity=entity, id=error.row_id
            ),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except NothingToPrint as error:
        print(_(error.reason).format(**error.params), file=sys.stderr)
        return EXIT_BAD_INPUT
    except FontMissing as error:
        print(_("The bundled font is missing: {path}").format(path=error), file=sys.stderr)
        return EXIT_BROKEN_INSTALL
    print(_("Wrote {path}").format(path=path))
    return 0


def cmd_print_visit(args: argparse.Namespace) -> int:
    return _run(
        args,
        f"visit-{args.id[:13]}.pdf",
        lambda engine: render_visit_summary(engine, args.id, lang=_language(args)),
    )


def cmd_print_brief(args: argparse.Namespace) -> int:
    return _run(
        args,
        f"brief-{args.id[:13]}.pdf",
        lambda engine: render_brief(engine, args.id, args.plan, lang=_language(args)),
    )


def cmd_print_card(args: argparse.Namespace) -> int:
    return _run(
        args,
        f"card-{args.id[:13]}.pdf",
        lambda engine: render_dealer_card(engine, args.id, lang=_language(args)),
    )


def cmd_print_route(args: argparse.Namespace) -> int:
    try:
        day = _day(args.day, "YYYY-MM-DD")
    except PrintFailed as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    return _run(
        args,
        f"route-{day.isoformat()}.pdf",
        lambda engine: render_route_pack(engine, day, args.rep, lang=_language(args)),
    )


def cmd_print_report(args: argparse.Namespace) -> int:
    try:
        on = _day(args.date, "--date") if args.date else date.today()
    except PrintFailed as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    period = PeriodType.WEEK if args.period == "week" else PeriodType.MONTH

    def render(engine: Engine) -> bytes:
        rep, territories, manager = args.rep, tuple(args.territory or ()), args.manager
        if rep is None and not territories and manager is None:
            rep, manager = _signed_in(engine)
        return render_mgmt_report(
            engine, period, on, rep, territories, manager, lang=_language(args)
        )

    return _run(args, f"report-{args.period}-{on.isoformat()}.pdf", render)


def _signed_in(engine: Engine) -> tuple[str | None, str | None]:
    """Whose report to print by default: the signed-in rep's, or a manager's team's."""
    from fieldrep.sync.api import user_context

    user = user_context(engine)
    if not user.user_id or not user.territory_id:
        raise PrintFailed(
            _(
                "This database is not signed in: say whose report to print with "
                "--rep, --territory or --manager."
            ),
            EXIT_BAD_INPUT,
        )
    if user.role == Role.MANAGER:
        return None, user.user_id
    return user.user_id, None


def build_parser() -> argparse.ArgumentParser:
    """A parser with only the print commands (``python -m fieldrep.cli_print``)."""
    parser = argparse.ArgumentParser(prog="fieldrep")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
