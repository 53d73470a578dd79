"""``fieldrep print ...``: PDFs from the command line, exit 2 for an unknown id."""

from __future__ import annotations

from pathlib import Path

import pytest
from reports_dataset import ROUTE_DAY, DatasetIds
from sqlalchemy import Engine

from fieldrep.cli_print import main


def database(engine: Engine) -> str:
    return str(engine.url.database)


@pytest.mark.parametrize(
    "command",
    [
        ["visit", "{record}"],
        ["brief", "{dealer}"],
        ["brief", "{dealer}", "--plan", "{plan}"],
        ["card", "{dealer}"],
        ["route", ROUTE_DAY.isoformat()],
        ["route", ROUTE_DAY.isoformat(), "--rep", "zhangwei"],
        ["report", "week", "--date", "2026-11-25", "--rep", "zhangwei"],
        ["report", "month", "--date", "2026-11-25", "--manager", "lina"],
        ["report", "month", "--territory", "{territory}", "--language", "en"],
    ],
)
def test_print_writes_a_pdf(
    engine: Engine,
    dataset: DatasetIds,
    tmp_path: Path,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    values = {
        "record": dataset.record_id,
        "dealer": dataset.dealer_id,
        "plan": dataset.plan_item_ids[0],
        "territory": dataset.territory_id,
    }
    out = tmp_path / "out" / "document.pdf"
    arguments = [part.format(**values) for part in command]
    code = main(["print", *arguments, "--db", database(engine), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(b"%PDF-")
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["visit", "no-such-visit"], "no-such-visit"),
        (["brief", "no-such-dealer"], "no-such-dealer"),
        (["card", "no-such-dealer"], "no-such-dealer"),
        (["brief", "{dealer}", "--plan", "no-such-plan"], "no-such-plan"),
        (["report", "week", "--rep", "nobody"], "nobody"),
        (["route", "2030-01-01"], "2030-01-01"),
        (["route", "2026-13-45"], "2026-13-45"),
        (["report", "week", "--date", "yesterday", "--rep", "zhangwei"], "yesterday"),
    ],
)
def test_unknown_ids_and_bad_input_exit_2(
    engine: Engine,
    dataset: DatasetIds,
    tmp_path: Path,
    command: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "never.pdf"
    arguments = [part.format(dealer=dataset.dealer_id) for part in command]
    code = main(["print", *arguments, "--db", database(engine), "--out", str(out)])
    assert code == 2
    error = capsys.readouterr().err
    assert message in error
    assert not out.exists()


def test_unknown_id_message_is_translated(
    engine: Engine, dataset: DatasetIds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["print", "visit", "missing", "--db", database(engine)])
    assert code == 2
    assert "拜访记录" in capsys.readouterr().err


def test_missing_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing-here.db"
    code = main(["print", "card", "x", "--db", str(missing), "--out", str(tmp_path / "x.pdf")])
    assert code == 2
    assert str(missing) in capsys.readouterr().err
    assert not missing.exists()


def test_report_without_a_signed_in_user_asks_whose(
    engine: Engine, dataset: DatasetIds, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["print", "report", "week", "--db", database(engine)])
    assert code == 2
    assert "--rep" in capsys.readouterr().err


def test_default_file_name_in_the_current_folder(
    engine: Engine,
    dataset: DatasetIds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["print", "route", ROUTE_DAY.isoformat(), "--db", database(engine)]) == 0
    assert (tmp_path / f"route-{ROUTE_DAY.isoformat()}.pdf").is_file()


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["print", "report", "year"])
    assert raised.value.code == 2
