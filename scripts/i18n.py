"""Translation tooling: extract, check and compile FieldRep's gettext catalogue.

Usage (from the repository root, inside the virtual environment)::

    python scripts/i18n.py update [--part PART ...]   # extract strings into the part PO files
    python scripts/i18n.py check [--part PART ...]    # fail on untranslated or broken entries
    python scripts/i18n.py compile                    # merge the parts into fieldrep.mo

Source strings are English and marked in fieldrep/ with ``N_()``, ``_()`` and
``ngettext()``. The zh_CN translations live in one PO file per part of the code
(resources/translations/po/<part>.po) so that the people working on storage,
the CLI, sync, the server, reports and the UI each edit their own file. A
message belongs to the part of its first occurrence in layer order (enums,
storage, sync, server, reports, cli, ui): a string shared by the UI and the
storage layer is translated once, with the storage layer.
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "fieldrep"
DOMAIN = "fieldrep"
LOCALE = "zh_CN"
PARTS = ("enums", "storage", "sync", "server", "reports", "cli", "ui")
KEYWORDS: dict[str, tuple[int, ...] | None] = {"N_": None, "_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ("TRANSLATORS:",)
# Fixed header dates keep the PO and MO files byte-stable between runs, so that
# parallel work on different parts does not conflict on a timestamp.
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
HEADER = (
    "# Simplified Chinese translation of FieldRep ({part} part).\n"
    "# Edit msgstr only; run `python scripts/i18n.py update` to add new strings\n"
    "# and `python scripts/i18n.py compile` to rebuild fieldrep.mo.\n#"
)

MessageId = str | tuple[str, str]


def po_dir(root: Path = ROOT) -> Path:
    return root / "resources" / "translations" / "po"


def mo_path(root: Path = ROOT) -> Path:
    return root / "resources" / "translations" / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.mo"


def part_for(path: str) -> str:
    """The part that owns strings found in ``path`` (relative to the repository root)."""
    pieces = PurePosixPath(path).parts[1:]  # drop the package directory
    if not pieces:
        return "storage"
    head = pieces[0]
    if pieces == ("storage", "enums.py"):
        return "enums"
    if head == "storage":
        return "storage"
    if head == "cli" or (head.startswith("cli") and head.endswith(".py")):
        return "cli"
    if head in ("server", "sync", "reports", "ui"):
        return head
    return "storage"


@dataclass
class Extracted:
    """One source string and everywhere it occurs."""

    msgid: MessageId
    locations: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def first_location(self) -> tuple[str, int]:
        """The occurrence that decides the part: lowest layer first, then path and line."""
        return min(self.locations, key=lambda loc: (PARTS.index(part_for(loc[0])), loc[0], loc[1]))

    @property
    def part(self) -> str:
        return part_for(self.first_location[0])


def key_of(msgid: MessageId) -> str:
    """Catalogues key plural messages by their singular form."""
    return msgid[0] if isinstance(msgid, tuple) else msgid


def extract(root: Path = ROOT) -> dict[str, Extracted]:
    """Every marked string under the package, keyed by (singular) msgid."""
    found: dict[str, Extracted] = {}
    for filename, lineno, message, comments, _context in extract_from_dir(
        root / PACKAGE,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    ):
        msgid: MessageId = message if isinstance(message, str) else (message[0], message[1])
        if not key_of(msgid):
            continue
        path = f"{PACKAGE}/{PurePosixPath(Path(filename).as_posix())}"
        entry = found.setdefault(key_of(msgid), Extracted(msgid))
        if isinstance(msgid, tuple):
            entry.msgid = msgid
        entry.locations.append((path, lineno))
        entry.comments.extend(c for c in comments if c not in entry.comments)
    return found


def read_part(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=LOCALE, domain=DOMAIN)


def load_parts(root: Path = ROOT) -> dict[str, Catalog]:
    """The part catalogues that exist on disk."""
    return {
        part: read_part(po_dir(root) / f"{part}.po")
        for part in PARTS
        if (po_dir(root) / f"{part}.po").exists()
    }


def is_translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(strings) and not message.fuzzy


def _empty_string(msgid: MessageId) -> str | tuple[str, ...]:
    return ("",) if isinstance(msgid, tuple) else ""


def new_catalog(part: str | None) -> Catalog:
    return Catalog(
        locale=LOCALE,
        domain=DOMAIN,
        header_comment=HEADER.format(part=part or "all"),
        project="FieldRep",
        version="1",
        copyright_holder="FieldRep",
        msgid_bugs_address="FieldRep team",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        last_translator="FieldRep team",
        language_team="zh_CN",
        fuzzy=False,
    )


def render_po(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True)
    # Babel stamps its own version into the header; leave it out so that a newer
    # Babel does not rewrite every PO file.
    return re.sub(rb'"Generated-By: [^"]*"\n', b"", buffer.getvalue())


def _known_translations(parts: dict[str, Catalog]) -> dict[str, tuple[str, Message]]:
    """msgid -> (part, message) for every entry on disk, obsolete ones included.

    A translated entry wins over an untranslated one, so moving a string from
    one part to another carries its translation along.
    """
    known: dict[str, tuple[str, Message]] = {}
    for part, catalog in parts.items():
        for message in [*catalog, *catalog.obsolete.values()]:
            if not message.id:
                continue
            key = key_of(message.id)
            if key not in known or (is_translated(message) and not is_translated(known[key][1])):
                known[key] = (part, message)
    return known


@dataclass
class UpdateSummary:
    part: str
    total: int
    added: list[str]
    removed: list[str]
    untranslated: int
    written: bool


def update(root: Path = ROOT, only: Iterable[str] | None = None) -> list[UpdateSummary]:
    """Bring the part PO files in line with the source; keep every translation."""
    selected = set(only or PARTS)
    extracted = extract(root)
    on_disk = load_parts(root)
    known = _known_translations(on_disk)
    summaries: list[UpdateSummary] = []
    po_dir(root).mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        if part not in selected:
            continue
        mine = {key: entry for key, entry in extracted.items() if entry.part == part}
        previous = on_disk.get(part)
        previous_ids = {key_of(m.id) for m in previous if m.id} if previous else set()
        catalog = new_catalog(part)
        for key, entry in mine.items():
            old = known.get(key)
            string_value = old[1].string if old else _empty_string(entry.msgid)
            if isinstance(entry.msgid, tuple) and not isinstance(string_value, tuple):
                string_value = (string_value,)
            if not isinstance(entry.msgid, tuple) and isinstance(string_value, tuple):
                string_value = string_value[0]
            catalog.add(
                entry.msgid,
                string_value,
                locations=sorted({(path, None) for path, _line in entry.locations}),
                auto_comments=entry.comments,
                user_comments=list(old[1].user_comments) if old else [],
                flags=[f for f in (old[1].flags if old else ()) if f == "fuzzy"],
            )
        rendered = render_po(catalog)
        target = po_dir(root) / f"{part}.po"
        # A part with no strings gets no file; an existing file is rewritten only on change.
        written = (bool(mine) or target.exists()) and (
            not target.exists() or target.read_bytes() != rendered
        )
        if written:
            target.write_bytes(rendered)
        summaries.append(
            UpdateSummary(
                part=part,
                total=len(mine),
                added=sorted(set(mine) - previous_ids),
                removed=sorted(previous_ids - set(mine)),
                untranslated=sum(1 for m in catalog if m.id and not is_translated(m)),
                written=written,
            )
        )
    return summaries


def placeholders(text: str) -> set[str] | None:
    """The ``{name}`` fields of a str.format template, or None if it is malformed."""
    names: set[str] = set()
    try:
        for _literal, name, _spec, _conversion in string.Formatter().parse(text):
            if name is not None:
                names.add(name.split(".")[0].split("[")[0])
    except ValueError:
        return None
    return names


@dataclass(frozen=True)
class Problem:
    part: str
    kind: str  # missing | untranslated | placeholders | stale
    msgid: str
    detail: str = ""

    @property
    def fatal(self) -> bool:
        """Stale entries are harmless leftovers (``update`` removes them); the rest fail."""
        return self.kind != "stale"

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"  [{self.kind}] {self.msgid!r}{detail}"


def placeholder_problem(message: Message) -> str | None:
    """Why the translation's placeholders differ from the source's, or None."""
    if not is_translated(message):
        return None
    sources = message.id if isinstance(message.id, tuple) else (message.id,)
    translations = message.string if isinstance(message.string, tuple) else (message.string,)
    expected = placeholders(sources[-1])
    if any(placeholders(source) is None for source in sources):
        return "malformed braces in the source"
    for translation in translations:
        got = placeholders(translation)
        if got is None:
            return f"malformed braces in {translation!r}"
        if got != expected:
            return f"source has {sorted(expected or ())}, translation has {sorted(got)}"
    return None


def check(root: Path = ROOT, only: Iterable[str] | None = None) -> dict[str, list[Problem]]:
    """Problems per part: strings not in their PO file, untranslated, or with wrong fields."""
    selected = set(only or PARTS)
    extracted = extract(root)
    parts = load_parts(root)
    problems: dict[str, list[Problem]] = {part: [] for part in PARTS if part in selected}
    for key, entry in sorted(extracted.items()):
        part = entry.part
        if part not in selected:
            continue
        catalog = parts.get(part)
        message = catalog.get(key) if catalog is not None else None
        where = entry.first_location
        if message is None:
            detail = f"{where[0]}:{where[1]}; run `python scripts/i18n.py update`"
            problems[part].append(Problem(part, "missing", key, detail))
        elif not is_translated(message):
            problems[part].append(Problem(part, "untranslated", key, f"{where[0]}:{where[1]}"))
        elif (reason := placeholder_problem(message)) is not None:
            problems[part].append(Problem(part, "placeholders", key, reason))
    for part, catalog in parts.items():
        if part not in selected:
            continue
        for message in catalog:
            key = key_of(message.id) if message.id else ""
            if key and (key not in extracted or extracted[key].part != part):
                detail = "no longer in this part; run `python scripts/i18n.py update`"
                problems[part].append(Problem(part, "stale", key, detail))
    return problems


def compile_mo(root: Path = ROOT) -> bytes:
    """The merged zh_CN catalogue of all parts as .mo bytes (translated entries only)."""
    merged = new_catalog(None)
    for catalog in load_parts(root).values():
        for message in catalog:
            if message.id and is_translated(message) and key_of(message.id) not in merged:
                merged.add(message.id, message.string)
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    return buffer.getvalue()


def _print_update(summaries: Sequence[UpdateSummary]) -> None:
    for summary in summaries:
        state = "written" if summary.written else "unchanged"
        print(
            f"{summary.part:8} {summary.total:5} messages, {len(summary.added):4} new, "
            f"{len(summary.removed):4} removed, {summary.untranslated:4} untranslated ({state})"
        )
        for msgid in summary.added:
            print(f"  + {msgid!r}")
        for msgid in summary.removed:
            print(f"  - {msgid!r}")


def failures(problems: dict[str, list[Problem]]) -> list[Problem]:
    """The problems that make ``check`` fail, all parts together."""
    return [problem for found in problems.values() for problem in found if problem.fatal]


def _print_check(problems: dict[str, list[Problem]]) -> int:
    failed = 0
    for part, found in problems.items():
        fatal = [problem for problem in found if problem.fatal]
        notes = [problem for problem in found if not problem.fatal]
        status = f"{len(fatal)} problem(s)" if fatal else "OK"
        print(f"{part:8} {status}" + (f", {len(notes)} stale entry(ies)" if notes else ""))
        for problem in [*fatal, *notes]:
            print(problem)
        failed += len(fatal)
    if failed:
        print(f"\n{failed} translation problem(s); fill the zh_CN msgstr in the PO files above.")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("update", "extract strings into the part PO files"),
        ("check", "fail on untranslated, missing or mismatched entries"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--part", action="append", choices=PARTS, help="limit to this part")
    commands.add_parser("compile", help="merge all parts into fieldrep.mo")
    args = parser.parse_args(argv)
    if args.command == "update":
        _print_update(update(ROOT, args.part))
        return 0
    if args.command == "check":
        return _print_check(check(ROOT, args.part))
    target = mo_path(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = compile_mo(ROOT)
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
        print(f"wrote {target.relative_to(ROOT)} ({len(data)} bytes)")
    else:
        print(f"{target.relative_to(ROOT)} is up to date")
    missing = len(failures(check(ROOT)))
    if missing:
        print(f"note: {missing} problem(s) remain; see `python scripts/i18n.py check`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
