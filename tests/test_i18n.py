"""The translation catalogue: complete, compiled, consistent, and used by the labels."""

from __future__ import annotations

import gettext
import importlib.util
import io
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fieldrep.i18n import language, translate
from fieldrep.storage.db import NotAFieldRepDatabase
from fieldrep.storage.enums import AbcClass, ComplaintCategory, ObjectionType

ROOT = Path(__file__).resolve().parents[1]


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fieldrep_i18n_tool", ROOT / "scripts/i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _messages(mo_bytes: bytes) -> dict[object, str]:
    catalogue = gettext.GNUTranslations(io.BytesIO(mo_bytes))
    # Entry "" is the header; it names the Babel version, which may differ between machines.
    return {key: value for key, value in catalogue._catalog.items() if key != ""}


@pytest.fixture(scope="module")
def current_problems() -> dict[str, list[Any]]:
    return {part: list(found) for part, found in tool.check(ROOT).items()}


@pytest.mark.parametrize("part", tool.PARTS)
def test_every_extracted_string_is_translated(
    part: str, current_problems: dict[str, list[Any]]
) -> None:
    problems = [problem for problem in current_problems[part] if problem.fatal]
    listing = "\n".join(str(problem) for problem in problems)
    assert not problems, f"{part}: run `python scripts/i18n.py check --part {part}`:\n{listing}"


def test_committed_mo_matches_the_po_files() -> None:
    committed = tool.mo_path(ROOT)
    assert committed.is_file(), "run `python scripts/i18n.py compile`"
    fresh = tool.compile_mo(ROOT)
    assert _messages(committed.read_bytes()) == _messages(fresh), (
        "fieldrep.mo is stale: run `python scripts/i18n.py compile` and commit it"
    )


def test_enum_labels_follow_the_language() -> None:
    with language("zh_CN"):
        assert ObjectionType.DEMAND.label == "需求异议"
        assert AbcClass.A.label == "A类客户"
        assert ComplaintCategory.PRICE_DECEPTION.label == "价格欺瞒"
    with language("en"):
        assert ObjectionType.DEMAND.label == "Demand objection"
        assert AbcClass.A.label == "Class A"


def test_labels_parse_back_in_either_language() -> None:
    assert ObjectionType.parse("价格异议") is ObjectionType.PRICE
    assert ObjectionType.parse("Price objection") is ObjectionType.PRICE


def test_placeholders_survive_translation() -> None:
    text = translate(NotAFieldRepDatabase.message, "zh_CN")
    assert text != NotAFieldRepDatabase.message
    assert text.format(path="/tmp/x.db").endswith("/tmp/x.db")


def test_part_of_a_path() -> None:
    assert tool.part_for("fieldrep/storage/enums.py") == "enums"
    assert tool.part_for("fieldrep/storage/services/rules.py") == "storage"
    assert tool.part_for("fieldrep/cli.py") == "cli"
    assert tool.part_for("fieldrep/cli_demo.py") == "cli"
    assert tool.part_for("fieldrep/server/api/routes.py") == "server"
    assert tool.part_for("fieldrep/sync/client.py") == "sync"
    assert tool.part_for("fieldrep/reports/pdf.py") == "reports"
    assert tool.part_for("fieldrep/ui/app.py") == "ui"
    assert tool.part_for("fieldrep/logging_setup.py") == "storage"


@pytest.mark.parametrize(
    ("source", "translation", "ok"),
    [
        ("{count} dealers", "{count} 家经销商", True),
        ("{count} dealers", "{n} 家经销商", False),
        ("between {earliest} and {latest}", "在 {earliest} 之间", False),
        ("plain", "纯文本 {extra}", False),
        ("{name}", "{name", False),
    ],
)
def test_placeholder_check(source: str, translation: str, ok: bool) -> None:
    from babel.messages.catalog import Message

    assert (tool.placeholder_problem(Message(source, translation)) is None) is ok


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_update_adds_keeps_and_removes(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "fieldrep/storage/enums.py": 'A = N_("Class A")\nB = N_("Class B")\n',
            "fieldrep/ui/view.py": 'T = _("Today")\nN = ngettext("{n} visit", "{n} visits", 2)\n',
        },
    )
    tool.update(root)
    enums = tool.read_part(tool.po_dir(root) / "enums.po")
    enums.get("Class A").string = "A类客户"
    (tool.po_dir(root) / "enums.po").write_bytes(tool.render_po(enums))
    ui_before = (tool.po_dir(root) / "ui.po").read_bytes()

    # A string disappears from enums.py and a new one arrives; the UI is untouched.
    (root / "fieldrep/storage/enums.py").write_text(
        'A = N_("Class A")\nC = N_("Class C")\n', encoding="utf-8"
    )
    summaries = {summary.part: summary for summary in tool.update(root)}
    assert summaries["enums"].added == ["Class C"]
    assert summaries["enums"].removed == ["Class B"]
    enums = tool.read_part(tool.po_dir(root) / "enums.po")
    assert enums.get("Class A").string == "A类客户"
    assert enums.get("Class C").string == ""
    assert enums.get("Class B") is None
    assert (tool.po_dir(root) / "ui.po").read_bytes() == ui_before

    problems = tool.check(root)
    assert [(p.kind, p.msgid) for p in problems["enums"]] == [("untranslated", "Class C")]
    assert {p.msgid for p in problems["ui"]} == {"Today", "{n} visit"}


def test_check_reports_strings_missing_from_the_po_files(tmp_path: Path) -> None:
    root = _project(tmp_path, {"fieldrep/sync/client.py": 'M = _("Sync failed")\n'})
    problems = tool.check(root)
    assert [(p.kind, p.msgid) for p in problems["sync"]] == [("missing", "Sync failed")]


def test_string_shared_by_layers_belongs_to_the_lower_one(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "fieldrep/ui/view.py": 'T = _("Dealer")\n',
            "fieldrep/storage/enums.py": 'D = N_("Dealer")\n',
        },
    )
    tool.update(root)
    assert tool.read_part(tool.po_dir(root) / "enums.po").get("Dealer") is not None
    assert not (tool.po_dir(root) / "ui.po").exists()


def test_compile_uses_every_part(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"fieldrep/storage/enums.py": 'A = N_("Class A")\n', "fieldrep/ui/v.py": '_("Today")\n'},
    )
    shutil.rmtree(tool.po_dir(root), ignore_errors=True)
    tool.update(root)
    for part, msgid, text in (("enums", "Class A", "A类客户"), ("ui", "Today", "今天")):
        catalog = tool.read_part(tool.po_dir(root) / f"{part}.po")
        catalog.get(msgid).string = text
        (tool.po_dir(root) / f"{part}.po").write_bytes(tool.render_po(catalog))
    assert _messages(tool.compile_mo(root)) == {"Class A": "A类客户", "Today": "今天"}


def test_plural_messages_compile_to_one_chinese_form(tmp_path: Path) -> None:
    root = _project(
        tmp_path, {"fieldrep/ui/v.py": 'ngettext("{n} dealer due", "{n} dealers due", n)\n'}
    )
    tool.update(root)
    catalog = tool.read_part(tool.po_dir(root) / "ui.po")
    message = catalog.get("{n} dealer due")
    assert message.string == ("",)
    assert [p.kind for p in tool.check(root)["ui"]] == ["untranslated"]
    message.string = ("{n} 家经销商到期",)
    (tool.po_dir(root) / "ui.po").write_bytes(tool.render_po(catalog))
    assert tool.failures(tool.check(root)) == []
    compiled = gettext.GNUTranslations(io.BytesIO(tool.compile_mo(root)))
    assert compiled.ngettext("{n} dealer due", "{n} dealers due", 1) == "{n} 家经销商到期"
    assert compiled.ngettext("{n} dealer due", "{n} dealers due", 7) == "{n} 家经销商到期"
