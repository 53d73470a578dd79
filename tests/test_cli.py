"""The ``fieldrep`` command line: demo, search, due, and errors as one clear line."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest

from fieldrep import cli
from fieldrep.i18n import set_language
from fieldrep.logging_setup import log_file_path, shutdown_logging

ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in cli.LANGUAGE_ENVS:
        monkeypatch.delenv(name, raising=False)
    yield
    shutdown_logging()
    set_language("zh_CN")


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database made through the command line itself."""
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    assert cli.main(["demo", "--db", str(path), "--dealers", "60", "--seed", "3"]) == 0
    return path


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# ---------------------------------------------------------------- demo


def test_demo_builds_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.db"
    code, out, err = run(["--lang", "en", "demo", "--db", str(path), "--dealers", "25"], capsys)
    assert code == 0, err
    assert "25 dealers" in out
    assert "liming" in out
    assert path.stat().st_size > 0


def test_demo_refuses_a_database_with_dealers_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.db"
    assert run(["demo", "--db", str(path), "--dealers", "5"], capsys)[0] == 0
    code, out, err = run(["--lang", "en", "demo", "--db", str(path), "--dealers", "8"], capsys)
    assert code == 2
    assert out == ""
    assert "--force" in one_line(err)
    code, out, err = run(
        ["--lang", "en", "demo", "--db", str(path), "--dealers", "8", "--force"], capsys
    )
    assert code == 0, err
    assert "8 dealers" in out


@pytest.mark.parametrize("bad", ["-1", "many", "2.5"])
def test_demo_refuses_a_bad_dealer_count(
    bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.db"
    code, out, err = run(["--lang", "en", "demo", "--db", str(path), f"--dealers={bad}"], capsys)
    assert code == 2
    assert out == ""
    assert "--dealers" in one_line(err)
    assert not path.exists()


def test_demo_uses_the_profile_database_without_db(
    fieldrep_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(["demo", "--dealers", "3"], capsys)
    assert code == 0, err
    assert (fieldrep_home / "fieldrep.db").stat().st_size > 0


# ---------------------------------------------------------------- search


def test_search_prints_id_name_city_best_first(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    with sqlite3.connect(demo_db) as connection:
        dealer_id, name, city = connection.execute(
            "SELECT id, name, city FROM dealer ORDER BY id LIMIT 1"
        ).fetchone()
    code, out, err = run(["search", "--db", str(demo_db), name], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines
    first = lines[0].split("\t")
    assert first == [dealer_id, name, city]
    for line in lines:
        fields = line.split("\t")
        assert len(fields) == 3
        assert ID_RE.match(fields[0])


def test_search_respects_the_limit(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["search", "--db", str(demo_db), "公司", "--limit", "4"], capsys)
    assert code == 0
    assert len(out.splitlines()) == 4


def test_search_without_a_match_says_so_on_stderr(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["--lang", "en", "search", "--db", str(demo_db), "zzzzqqqq"], capsys)
    assert code == 0
    assert out == ""
    assert "zzzzqqqq" in one_line(err)


# ---------------------------------------------------------------- due


def test_due_lists_most_overdue_first(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["due", "--db", str(demo_db), "--date", "2026-11-25"], capsys)
    assert code == 0, err
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows
    overdue = []
    for dealer_id, name, _city, abc_class, last_visit, due_on, days in rows:
        assert ID_RE.match(dealer_id)
        assert name
        assert abc_class in ("A", "B", "C")
        assert last_visit == "-" or date.fromisoformat(last_visit) < date(2026, 11, 25)
        assert date.fromisoformat(due_on) <= date(2026, 11, 25)
        overdue.append(int(days))
    assert overdue == sorted(overdue, reverse=True)
    assert overdue[0] > 0


def test_due_on_an_earlier_day_lists_fewer_dealers(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = run(["due", "--db", str(demo_db), "--date", "2026-11-25"], capsys)[1]
    earlier = run(["due", "--db", str(demo_db), "--date", "2026-11-02"], capsys)[1]
    assert len(earlier.splitlines()) < len(later.splitlines())


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "25/11/2026"])
def test_a_bad_date_is_one_line_and_exit_2(
    bad: str, demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["--lang", "en", "due", "--db", str(demo_db), "--date", bad], capsys)
    assert code == 2
    assert out == ""
    line = one_line(err)
    assert "--date" in line and bad in line


@pytest.mark.parametrize("command", [["search", "杭州"], ["due"]])
def test_a_missing_database_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    code, out, err = run(["--lang", "en", command[0], "--db", str(missing), *command[1:]], capsys)
    assert code == 2
    assert out == ""
    assert str(missing) in one_line(err)
    assert "does not exist" in err
    assert not missing.exists()  # search and due never create a database


# The least each command that reads a profile's database needs besides --db.
NEEDS_A_DATABASE: dict[tuple[str, ...], list[str]] = {
    ("search",): ["杭州"],
    ("due",): [],
    ("sync",): [],
    ("dealer", "add"): ["--name", "杭州恒达", "--city", "杭州"],
    ("dealer", "set"): ["0190a000-0000-7000-8000-00000000d001", "city=宁波"],
    ("dealer", "show"): ["0190a000-0000-7000-8000-00000000d001"],
    ("conflicts",): [],
    ("audit",): [],
    ("print", "visit"): ["0190a000-0000-7000-8000-00000000a001"],
    ("print", "brief"): ["0190a000-0000-7000-8000-00000000d001"],
    ("print", "card"): ["0190a000-0000-7000-8000-00000000d001"],
    ("print", "route"): ["2026-11-25"],
    ("print", "report"): ["week"],
}
# demo and login make the database they are given; server's --db is the server's,
# and the --db before a command is the one the desktop application opens.
MAY_CREATE = {("demo",), ("login",)}


def test_every_command_refuses_a_mistyped_database_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fieldrep sync --db <typo>`` used to leave an empty database before "not signed in"."""
    with_db = {
        path
        for path, parser in command_parsers(cli.build_parser())
        if path
        and path[:1] != ("server",)
        and any("--db" in a.option_strings for a in parser._actions)
    }
    assert with_db - MAY_CREATE <= NEEDS_A_DATABASE.keys(), "a new command: add it above"
    folder = tmp_path / "profiles"
    folder.mkdir()
    mistyped = folder / "feildrep.db"
    for path in sorted(with_db - MAY_CREATE):
        code, out, err = run(
            ["--lang", "en", *path, *NEEDS_A_DATABASE[path], "--db", str(mistyped)], capsys
        )
        assert code == 2, (path, err)
        assert out == ""
        line = one_line(err)
        assert str(mistyped) in line and "does not exist" in line, path
        assert list(folder.iterdir()) == [], f"{path} left {list(folder.iterdir())}"
    code, _out, err = run(
        ["sync", "--export-outbox", str(folder / "out.json"), "--db", str(mistyped)], capsys
    )
    assert code == 2 and str(mistyped) in one_line(err) and "不存在" in err
    assert list(folder.iterdir()) == []


def test_sync_of_a_profile_without_a_database_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --db the profile's database is meant; a profile never set up has none."""
    from fieldrep.paths import default_database_path

    monkeypatch.setenv("FIELDREP_HOME", str(tmp_path / "new-profile"))
    expected = default_database_path()
    code, _out, err = run(["sync"], capsys)
    assert code == 2
    assert str(expected) in one_line(err) and "不存在" in err
    assert not expected.exists() and not Path(f"{expected}.sync.lock").exists()


@pytest.mark.parametrize("content", [b"just some text\n", b"SQLite format 3\x00" + b"\x00" * 200])
@pytest.mark.parametrize("command", [["search", "杭州"], ["due"], ["demo"]])
def test_a_file_that_is_not_fieldrep_is_one_line_and_exit_2(
    content: bytes, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(content)
    code, out, err = run(["--lang", "en", command[0], "--db", str(foreign), *command[1:]], capsys)
    assert code == 2
    assert out == ""
    assert str(foreign) in one_line(err)
    assert foreign.read_bytes() == content  # left untouched


def test_another_application_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    code, _out, err = run(["--lang", "en", "due", "--db", str(other)], capsys)
    assert code == 2
    assert "not a FieldRep database" in one_line(err)


def test_a_folder_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["--lang", "en", "search", "--db", str(tmp_path), "x"], capsys)
    assert code == 2
    assert "folder" in one_line(err)


def test_a_missing_argument_and_an_unknown_command_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _out, err = run(["--lang", "en", "search"], capsys)
    assert code == 2
    assert "required" in one_line(err)
    code, _out, err = run(["--lang", "en", "frobnicate"], capsys)
    assert code == 2
    assert "frobnicate" in one_line(err)


def test_messages_are_chinese_by_default_and_english_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "missing.db")
    english = run(["--lang", "en", "due", "--db", missing], capsys)[2]
    chinese = run(["due", "--db", missing], capsys)[2]
    monkeypatch.setenv("FIELDREP_LANG", "en")
    from_env = run(["due", "--db", missing], capsys)[2]
    assert "does not exist" in english
    assert from_env == english
    assert chinese != english
    assert re.search(r"[\u4e00-\u9fff]", chinese)


def test_argparse_messages_are_translated(capsys: pytest.CaptureFixture[str]) -> None:
    english = run(["--lang", "en", "search"], capsys)[2]
    chinese = run(["--lang", "zh_CN", "search"], capsys)[2]
    assert "the following arguments are required" in english
    assert "the following arguments are required" not in chinese
    assert re.search(r"[\u4e00-\u9fff]", chinese)


def test_an_unexpected_error_is_one_line_with_the_traceback_in_the_log(
    demo_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fieldrep.storage.search as search

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("the index fell over")

    monkeypatch.setattr(search, "search_dealers", broken)
    code, out, err = run(["--lang", "en", "search", "--db", str(demo_db), "杭州"], capsys)
    assert code == 1
    assert out == ""
    assert "RuntimeError" in one_line(err)
    log_text = log_file_path().read_text(encoding="utf-8")
    assert "Traceback" in log_text
    assert "the index fell over" in log_text


# ---------------------------------------------------------------- help and the GUI


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["--lang", "en", "--help"], capsys)
    assert code == 0
    for command in ("demo", "search", "due"):
        assert command in out
    for command in ("demo", "search", "due"):
        code, out, _err = run(["--lang", "en", command, "--help"], capsys)
        assert code == 0
        assert "--db" in out


def command_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser with the words that name its command (nested subcommands too)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from command_parsers(subparser, (*path, name))


def placeholders(parser: argparse.ArgumentParser) -> set[str]:
    """The names a usage line shows for positional arguments (``user``, ``id``)."""
    return {
        str(action.metavar or action.dest)
        for action in parser._actions
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
    }


# A sentence: two or more Latin words in a row, once option names, metavars, choices,
# addresses, FIELD=VALUE examples and command names are taken out of the line.
NOT_PROSE = re.compile(
    r"\{[^}]*\}|\S+://\S+|\S+=\S+|--?[A-Za-z][\w-]*|\b[A-Z][A-Z_\d-]+\b|\bFieldRep\b|\bJSON\b"
    r"|\bPDF\b|\bzh_CN\b|\ben\b"
)
LATIN_WORDS = re.compile(r"[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+)+")


def english_in_help(
    text: str, commands: Sequence[str], names: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """The English sentences in a help text, each with its line."""
    found = []
    for line in text.splitlines():
        prose = NOT_PROSE.sub(" ", line.replace(" ".join(["fieldrep", *commands]), " "))
        prose = " ".join(word for word in prose.split() if word not in names)
        found += [f"{line.strip()!r}: {match}" for match in LATIN_WORDS.findall(prose)]
    return found


def test_help_in_chinese_has_no_english_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    """``fieldrep --help`` and every subcommand's help read in Chinese, argparse's own lines too."""
    set_language("zh_CN")
    parsers = dict(command_parsers(cli.build_parser()))
    assert ("dealer", "add") in parsers and ("server", "run") in parsers and len(parsers) > 20
    for path, parser in parsers.items():
        code, out, _err = run(["--lang", "zh_CN", *path, "--help"], capsys)
        assert code == 0, path
        assert english_in_help(out, path, placeholders(parser)) == [], path
    code, out, _err = run(["--help"], capsys)
    assert "显示程序版本号并退出" in out
    # The same check finds the English help English (it would find a line left untranslated).
    code, out, _err = run(["--lang", "en", "--help"], capsys)
    assert any(
        "show program's version number and exit" in line for line in english_in_help(out, [])
    )


def test_no_arguments_opens_the_desktop_application(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import fieldrep.ui.app as app

    seen: list[list[str]] = []

    def fake_run_gui(argv: Sequence[str]) -> int:
        seen.append(list(argv))
        return 0

    monkeypatch.setattr(app, "run_gui", fake_run_gui)
    assert run([], capsys)[0] == 0
    assert run(["--lang", "en", "--db", "x.db"], capsys)[0] == 0
    assert seen[0][1:] == []
    assert seen[1][1:] == ["--lang", "en", "--db", "x.db"]


def test_running_as_a_program_prints_no_traceback(tmp_path: Path) -> None:
    """The real entry point in a fresh interpreter: one line on stderr, exit code 2."""
    environment = {**os.environ, "FIELDREP_HOME": str(tmp_path / "home"), "FIELDREP_LANG": "en"}
    result = subprocess.run(
        [sys.executable, "-m", "fieldrep.cli", "due", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "does not exist" in one_line(result.stderr)
