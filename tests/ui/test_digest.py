"""The digest after a sync: colleagues' changes, each line opening its record."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from syncrows import created, pull, updated

from fieldrep.i18n import language
from fieldrep.storage.models import AppUser, Dealer
from fieldrep.sync.api import digest, digest_entries
from fieldrep.ui import registry
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.sync_bridge import SyncOutcome
from fieldrep.ui.views.digest import DigestButton, DigestDialog

FOLLOW_UP = "0190a000-0000-7000-8000-00000000f201"
RUN = "run-digest"


@dataclass(frozen=True)
class Pulled:
    dealer_id: str
    dealer_name: str
    manager_name: str


@pytest.fixture
def pulled(demo_engine: Engine, demo: object) -> Pulled:
    """A sync brought a manager's class change of my dealer and a follow-up for me."""
    summary = demo.summary  # type: ignore[attr-defined]
    with demo_engine.connect() as connection:
        dealer_id, name, territory, abc = connection.execute(
            select(Dealer.id, Dealer.name, Dealer.territory_id, Dealer.abc_class)
            .where(Dealer.our_contact_user_id == summary.rep_user_id)
            .order_by(Dealer.name)
            .limit(1)
        ).one()
        manager_id, manager_name = connection.execute(
            select(AppUser.id, AppUser.display_name).where(
                AppUser.username == summary.manager_username
            )
        ).one()
    new_class = "A" if abc.code != "A" else "B"
    changes = [
        updated(demo_engine, "dealer", dealer_id, manager_id, abc_class=new_class),
        created(
            "follow_up",
            FOLLOW_UP,
            territory,
            manager_id,
            title="寄送新品样机",
            owner_user_id=summary.rep_user_id,
            due_on="2026-12-01",
            dealer_id=dealer_id,
            direction="we_owe",
        ),
    ]
    pull(demo_engine, changes, RUN, summary.rep_user_id)
    return Pulled(dealer_id, name, manager_name)


def test_digest_entries_lead_to_their_records(demo_engine: Engine, pulled: Pulled) -> None:
    with language("en"):
        entries = digest_entries(demo_engine)
        lines = digest(demo_engine)
    assert [entry.text for entry in entries[:-1]] == lines[:-1]
    change, assigned = entries
    assert change.text.startswith(f"{pulled.manager_name} changed {pulled.dealer_name}'s")
    assert (change.kind, change.record_id) == ("dealer", pulled.dealer_id)
    assert (assigned.kind, assigned.record_id) == ("follow_up", FOLLOW_UP)
    assert "寄送新品样机" in assigned.text and "2026-12-01" in assigned.text


def finish_sync(window: MainWindow, lines: int) -> None:
    """What the shell does when a sync ends well (its digest lines are sentences)."""
    window._sync_done(
        SyncOutcome(True, "同步完成。", tuple(f"line {n}" for n in range(lines)), True)
    )


def open_dialog(qtbot: QtBot, window: MainWindow) -> DigestDialog:
    qtbot.waitUntil(lambda: window.findChild(DigestDialog, "digest_dialog") is not None)
    dialog = window.findChild(DigestDialog, "digest_dialog")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.entries is not None)
    return dialog


def test_the_digest_opens_after_a_sync_and_each_line_opens_its_record(
    qtbot: QtBot, main_window: MainWindow, pulled: Pulled, request: pytest.FixtureRequest
) -> None:
    opened: list[tuple[str, str]] = []

    def opener(kind: str) -> registry.RecordOpener:
        return lambda _services, _window, record_id: opened.append((kind, record_id))

    for kind in ("dealer", "follow_up"):
        registry.register_opener(kind, opener(kind))
        request.addfinalizer(lambda kind=kind: registry.unregister(kind))
    finish_sync(main_window, 2)
    dialog = open_dialog(qtbot, main_window)
    assert dialog.isVisible()
    assert dialog.lines.count() == 2
    assert dialog.heading.text() == "2 条同事的修改（自上次同步以来）"
    first = dialog.lines.item(0)
    assert pulled.dealer_name in first.text() and pulled.manager_name in first.text()
    assert first.font().underline()

    rect = dialog.lines.visualItemRect(first)
    with qtbot.waitSignal(main_window.record_requested) as requested:
        qtbot.mouseClick(dialog.lines.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert requested.args == ["dealer", pulled.dealer_id]
    dialog.lines.setCurrentRow(1)
    qtbot.keyClick(dialog.lines, Qt.Key.Key_Return)
    assert opened == [("dealer", pulled.dealer_id), ("follow_up", FOLLOW_UP)]
    # The status-bar button counts the lines of that sync.
    button = main_window.findChild(DigestButton)
    assert button is not None and button.text() == "2 条同事的修改"
    dialog.close()


def test_no_digest_pops_up_when_nobody_changed_anything(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    finish_sync(main_window, 0)
    QApplication.processEvents()
    assert main_window.findChild(DigestDialog, "digest_dialog") is None


def test_the_digest_is_reachable_from_the_status_bar(
    qtbot: QtBot, main_window: MainWindow, pulled: Pulled
) -> None:
    button = main_window.findChild(DigestButton)
    assert button is not None and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, main_window)
    assert dialog.lines.count() == 2
    assert "寄送新品样机" in dialog.lines.item(1).text()
    dialog.close()


def test_the_digest_closes_with_its_window_and_loads_nothing_after_shutdown(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, workers: Workers, pulled: Pulled
) -> None:
    from fieldrep.ui.language import apply_language

    finish_sync(main_window, 2)
    dialog = open_dialog(qtbot, main_window)
    assert dialog.isVisible()
    main_window.close()
    assert not dialog.isVisible(), "the digest goes with its window"
    qtbot.waitUntil(lambda: not workers.busy)
    workers.shutdown()
    # A language switch afterwards (the next window's) retranslates the closed digest
    # without asking the shut-down workers for its lines, even when it is shown again.
    try:
        apply_language(qapp, "en")
        assert dialog.windowTitle() == "Changes by colleagues"
        dialog.show()
        dialog.refresh()
        assert not workers.busy
        dialog.close()
    finally:
        apply_language(qapp, "zh_CN")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_digest_screenshots(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, pulled: Pulled, lang: str
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    apply_language(qapp, lang)
    try:
        finish_sync(main_window, 2)
        dialog = open_dialog(qtbot, main_window)
        QApplication.processEvents()
        save_screenshot(dialog, f"digest_{lang}")
        save_screenshot(main_window, f"digest_status_bar_{lang}")
        problems = check_texts(dialog, lang)
        assert not problems, problems
        dialog.close()
    finally:
        apply_language(qapp, "zh_CN")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh_CN", "管理员 将 {name} 的角色由 区域销售经理 改为 业务代表"),
        ("en", "The administrator changed {name}'s Role Area manager -> Sales rep"),
    ],
)
def test_a_change_by_the_administration_reads_the_administrator(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    demo_engine: Engine,
    demo: object,
    lang: str,
    expected: str,
) -> None:
    """'fieldrep server set-role' writes as the server's system user, not as someone."""
    from shots import save_screenshot

    from fieldrep.sync.protocol import SYSTEM_USER_ID
    from fieldrep.ui.language import apply_language

    summary = demo.summary  # type: ignore[attr-defined]
    with demo_engine.connect() as connection:
        manager_id, manager_name = connection.execute(
            select(AppUser.id, AppUser.display_name).where(
                AppUser.username == summary.manager_username
            )
        ).one()
    change = updated(demo_engine, "app_user", manager_id, SYSTEM_USER_ID, role="rep")
    pull(demo_engine, [change], "run-set-role", summary.rep_user_id)
    apply_language(qapp, lang)
    try:
        finish_sync(main_window, 1)
        dialog = open_dialog(qtbot, main_window)
        assert [entry.text for entry in dialog.entries or []] == [
            expected.format(name=manager_name)
        ]
        QApplication.processEvents()
        save_screenshot(dialog, f"digest_administrator_{lang}")
        dialog.close()
    finally:
        apply_language(qapp, "zh_CN")
