"""The dealer card's Change history tab against the real server app, in-process.

Rep alice (李雷) creates a dealer with a contact and changes its city; manager
mona opens the card and reads who changed what, on which device, field by field,
newest first, in Chinese and after a switch in English. Offline, the tab says it
needs the network; for alice herself the server keeps the trail to managers, and
the tab says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from shots import english_words, save_screenshot
from tenacity import wait_none
from uitest import NetworkSwitch, all_texts, make_window

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api, local
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.dealer_card import DealerCardWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synce2e import Device, World


@pytest.fixture
def network(world: World, monkeypatch: pytest.MonkeyPatch) -> NetworkSwitch:
    """The history tab reaches the in-process server through this switch."""
    switch = NetworkSwitch(world.transport)
    real_fetch_audit = api.fetch_audit

    def fetch_audit(db_path: Path | str, **filters: Any) -> api.AuditResult:
        return real_fetch_audit(
            db_path, transport=switch, wait=wait_none(), max_attempts=1, **filters
        )

    monkeypatch.setattr(api, "fetch_audit", fetch_audit)
    return switch


def open_card(qtbot: QtBot, window: MainWindow, dealer_id: str) -> DealerCardWindow:
    window.open_record("dealer", dealer_id)
    [card] = window.findChildren(DealerCardWindow)
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)
    card.resize(1180, 700)
    return card


def show_history(qtbot: QtBot, card: DealerCardWindow) -> None:
    """Open the tab (it asks the server the first time) and wait for the answer."""
    with qtbot.waitSignal(card.history.fetched, timeout=20_000):
        card.show_history()


def rows(card: DealerCardWindow) -> list[QTreeWidgetItem]:
    tree = card.history.tree
    return [tree.topLevelItem(index) for index in range(tree.topLevelItemCount())]


def texts(item: QTreeWidgetItem) -> list[str]:
    return [item.text(column) for column in range(item.columnCount())]


def test_the_card_shows_who_changed_the_dealer_and_its_rows(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    tmp_path: Path,
    network: NetworkSwitch,
) -> None:
    alice = Device(world, tmp_path, "alice")
    mona = Device(world, tmp_path, "mona")
    try:
        dealer = core.create(
            alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
        ).id
        core.create(alice.store, Contact, {"dealer_id": dealer, "name": "王采购"})
        alice.sync()
        core.update(alice.store, Dealer, dealer, {"city": "宁波", "employee_count": 15})
        alice.sync()
        mona.sync()
        with alice.engine.connect() as connection:
            alice_device = local.get_state(connection, local.DEVICE_ID)

        window = make_window(qtbot, workers, ui_settings, mona.store, mona.db_path)
        card = open_card(qtbot, window, dealer)
        assert network.requests == 0, "nothing is asked before the tab is shown"
        assert card.tabs.tabText(4) == "变更记录"
        show_history(qtbot, card)
        history = card.history
        # Newest first: the city change, the contact, the dealer's creation.
        top = rows(card)
        assert [texts(item)[3:] for item in top] == [
            ["经销商“杭州恒达”", "修改了"],
            ["联系人“王采购”", "新建了"],
            ["经销商“杭州恒达”", "新建了"],
        ]
        # The device: the random end of its id, the whole id in the tooltip.
        assert alice_device and texts(top[0])[1:3] == ["李雷", "…" + alice_device[-8:]]
        assert top[0].toolTip(2) == alice_device and not top[2].isExpanded()
        created = {
            top[2].child(index).text(3): top[2].child(index).text(4)
            for index in range(top[2].childCount())
        }
        assert created["辖区"] == "（空） → 杭州", "the territory's name, not its id"
        assert "创建时间" not in created
        changed = {
            top[0].child(index).text(3): top[0].child(index).text(4)
            for index in range(top[0].childCount())
        }
        assert changed == {"城市": "杭州 → 宁波", "员工人数": "（空） → 15"}, changed
        assert history.status.text() == "共 3 条变更，最新的在前。"
        assert not english_words([text for text in all_texts(history) if "…" not in text])
        save_screenshot(card, "dealer_card_history_zh_CN")

        # English: the tab asks again and words labels and actions in English.
        try:
            with qtbot.waitSignal(history.fetched, timeout=20_000):
                apply_language(qapp, "en")
            assert card.tabs.tabText(4) == "Change history"
            assert texts(rows(card)[0])[3:] == ["Dealer “杭州恒达”", "changed"]
            first = rows(card)[0]
            labels = {first.child(index).text(3) for index in range(first.childCount())}
            assert labels == {"City", "Number of employees"}, labels
            assert history.status.text() == "3 changes, newest first."
            save_screenshot(card, "dealer_card_history_en")
        finally:
            with qtbot.waitSignal(history.fetched, timeout=20_000):
                apply_language(qapp, "zh_CN")

        # Offline: the tab says the history needs the network; nothing stale is left.
        network.online = False
        with qtbot.waitSignal(history.fetched, timeout=20_000):
            history.refresh_button.click()
        assert "需要联网" in history.status.text(), history.status.text()
        assert rows(card) == []
        save_screenshot(card, "dealer_card_history_offline_zh_CN")
        network.online = True
        with qtbot.waitSignal(history.fetched, timeout=20_000):
            history.refresh_button.click()
        assert len(rows(card)) == 3
        card.close()

        # A rep: the server keeps the trail for managers, and the tab says so.
        rep_window = make_window(qtbot, workers, ui_settings, alice.store, alice.db_path)
        rep_card = open_card(qtbot, rep_window, dealer)
        show_history(qtbot, rep_card)
        assert rows(rep_card) == []
        assert rep_card.history.status.text() == "服务器只向经理开放变更记录。"
        rep_card.close()
        assert shown_errors == []
    finally:
        alice.close()
        mona.close()
