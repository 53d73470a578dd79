"""Refused changes against the real server app: listed with the reason, then dismissed.

SYNC.md: a refused op "stays visible, nothing is silently dropped". The rep sees
it in the conflict inbox (:func:`fieldrep.sync.api.list_rejected`) and dismisses
it once seen (:func:`fieldrep.sync.api.dismiss_rejected`); the local row already
shows the server's value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from synce2e import Device, World, server_rows

from fieldrep.i18n import language
from fieldrep.storage.enums import AbcClass, PeriodType
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import Dealer, SalesTarget
from fieldrep.storage.services import core
from fieldrep.sync import api


def synced_dealer(device: Device) -> str:
    """A dealer of class B that is on the server (a rep may give the first class)."""
    record = core.create(device.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    summary = device.sync()
    assert summary.rejected == []
    return record.id


def edit_past_the_services(device: Device, dealer_id: str, **values: str) -> None:
    """A rep's edit of a manager's field, as an older client or a SQL tool makes it.

    The services refuse it before it is queued; the capture triggers still queue a
    raw write, and the server must refuse it all the same.
    """
    assignments = ", ".join(f"{name} = ?" for name in values)
    with device.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE dealer SET {assignments} WHERE id = ?", (*values.values(), dealer_id)
        )


def test_the_services_refuse_a_reps_change_of_a_managers_field(alice: Device) -> None:
    """Nothing the server would refuse is queued: the rep hears it at once, by field."""
    dealer_id = synced_dealer(alice)
    with pytest.raises(ValidationError) as refused:
        core.update(alice.store, Dealer, dealer_id, {"abc_class": AbcClass.A, "city": "宁波"})
    assert refused.value.fields == ["abc_class"]
    with language("en"):
        assert refused.value.message() == "Visit class: only an area manager can change this"
    with language("zh_CN"):
        assert refused.value.message() == "拜访分类（ABC）：只有区域经理可以修改"
    assert api.pending_count(alice.engine) == 0, "nothing queued, not even the city"
    assert local_class(alice, dealer_id) == "B"


def local_class(device: Device, dealer_id: str) -> str:
    with device.engine.connect() as connection:
        value = connection.exec_driver_sql(
            "SELECT abc_class FROM dealer WHERE id = ?", (dealer_id,)
        ).scalar_one()
    return str(value)


def test_a_refused_field_is_listed_with_my_value_the_server_value_and_the_reason(
    world: World, alice: Device
) -> None:
    dealer_id = synced_dealer(alice)
    edit_past_the_services(alice, dealer_id, abc_class="A", city="宁波")
    with language("en"):
        summary = alice.sync()
    assert len(summary.rejected) == 1

    with language("en"):
        [refused] = api.list_rejected(alice.engine)
    assert (refused.table, refused.row_id, refused.record_label) == (
        "dealer",
        dealer_id,
        "杭州恒达",
    )
    [field] = refused.fields
    assert (field.field, field.label, field.mine, field.now) == (
        "abc_class",
        "Visit class",
        "A",
        "B",
    )
    with language("en"):
        assert refused.reason == "Visit class: only a manager can change this."
    assert refused.created_at is not None
    # The other field of the same edit went through; the refused one shows the server's.
    server = server_rows(world)[("dealer", dealer_id)]
    assert (server["city"], server["abc_class"]) == ("宁波", "B")
    assert local_class(alice, dealer_id) == "B"
    assert api.rejected_count(alice.engine) == 1
    assert api.pending_count(alice.engine) == 0, "a refused change is never resent"

    assert api.dismiss_rejected(alice.engine, [refused.op_id]) == 1
    assert api.list_rejected(alice.engine) == []
    assert api.rejected_count(alice.engine) == 0
    assert local_class(alice, dealer_id) == "B"
    again = alice.sync()
    assert (again.pushed, again.rejected) == (0, [])
    assert server_rows(world)[("dealer", dealer_id)]["abc_class"] == "B"


def test_a_wholly_refused_edit_is_listed_and_dismissing_leaves_pending_edits_alone(
    world: World, alice: Device
) -> None:
    dealer_id = synced_dealer(alice)
    edit_past_the_services(alice, dealer_id, abc_class="C")
    alice.sync()
    [refused] = api.list_rejected(alice.engine)
    assert [(f.field, f.mine, f.now) for f in refused.fields] == [("abc_class", "C", "B")]
    assert refused.reason.startswith(refused.fields[0].label), "the field as the rep knows it"
    assert local_class(alice, dealer_id) == "B"

    core.update(alice.store, Dealer, dealer_id, {"city": "温州"})  # a new, pending edit
    with alice.engine.connect() as connection:
        pending_id = connection.exec_driver_sql(
            "SELECT op_id FROM outbox WHERE state = 'pending'"
        ).scalar_one()
    assert api.dismiss_rejected(alice.engine, [str(pending_id)]) == 0
    assert api.pending_count(alice.engine) == 1
    assert api.dismiss_rejected(alice.engine, [refused.op_id, str(pending_id)]) == 1
    assert api.pending_count(alice.engine) == 1
    assert api.dismiss_rejected(alice.engine, []) == 0
    alice.sync()
    server = server_rows(world)[("dealer", dealer_id)]
    assert (server["city"], server["abc_class"]) == ("温州", "B")
    assert api.list_rejected(alice.engine) == []


def test_a_refused_new_record_is_listed_by_what_i_filled_in_and_leaves_when_dismissed(
    world: World, alice: Device
) -> None:
    """A rep may not add sales targets (a manager's table): the record never reaches the
    server, so once the refusal is seen it leaves the rep's copy as well."""
    alice.sync()
    target = core.create(
        alice.store,
        SalesTarget,
        {
            "period_type": PeriodType.MONTH,
            "period_start": date(2026, 11, 1),
            "revenue_target": Decimal("100000"),
        },
    )
    with language("en"):
        alice.sync()
        [refused] = api.list_rejected(alice.engine)
    assert ("sales_target", target.id) not in server_rows(world)
    assert refused.created and refused.table == "sales_target"
    shown = {field.field: field.mine for field in refused.fields}
    assert set(shown) == {"period_type", "period_start", "revenue_target"}, "no empty columns"
    with language("en"):
        assert refused.reason.startswith("Sales target"), refused.reason

    assert api.dismiss_rejected(alice.engine, [refused.op_id]) == 1
    with alice.engine.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT count(*) FROM sales_target WHERE id = ?", (target.id,)
        ).scalar_one()
    assert left == 0, "the copy equals the server again"
    assert api.pending_count(alice.engine) == 0, "removing it sends nothing"
    again = alice.sync()
    assert (again.pushed, again.rejected) == (0, [])


def test_a_refusal_reads_in_the_language_it_is_shown_in_not_the_one_it_was_synced_in(
    world: World, alice: Device
) -> None:
    dealer_id = synced_dealer(alice)
    edit_past_the_services(alice, dealer_id, abc_class="A")
    with language("zh_CN"):
        summary = alice.sync()
    [change] = summary.rejected
    with language("en"):
        assert change.reason == "abc_class: only a manager can change this."
        [refused] = api.list_rejected(alice.engine)
        assert refused.reason == "Visit class: only a manager can change this."
    with language("zh_CN"):
        assert change.reason == "abc_class：只有经理可以修改。"
        assert refused.reason == "拜访分类（ABC）：只有经理可以修改。", "listed in en, shown in zh"
        [again] = api.list_rejected(alice.engine)
        assert again.reason == refused.reason


def test_a_refused_new_record_synced_in_english_is_listed_in_chinese(
    world: World, alice: Device
) -> None:
    alice.sync()
    core.create(
        alice.store,
        SalesTarget,
        {"period_type": PeriodType.MONTH, "period_start": date(2026, 11, 1)},
    )
    with language("en"):
        alice.sync()
        [refused] = api.list_rejected(alice.engine)
        english = refused.reason
    with language("zh_CN"):
        [refused] = api.list_rejected(alice.engine)
        chinese = refused.reason
    assert english.startswith("Sales target"), english
    assert chinese != english
    assert not any("a" <= letter.lower() <= "z" for letter in chinese), chinese


def test_a_reason_stored_as_text_by_an_older_version_is_still_listed(
    world: World, alice: Device
) -> None:
    dealer_id = synced_dealer(alice)
    edit_past_the_services(alice, dealer_id, abc_class="A")
    edit_past_the_services(alice, dealer_id, abc_class="C")
    alice.sync()
    with alice.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE outbox SET reason = ? WHERE state = 'rejected'",
            ("abc_class：只有经理可以修改。",),
        )
    with language("en"):
        [refused] = api.list_rejected(alice.engine)
        assert refused.reason == "Visit class：只有经理可以修改。", "as worded then, field named"
    with alice.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET reason = NULL WHERE state = 'rejected'")
    with language("en"):
        [refused] = api.list_rejected(alice.engine)
        assert refused.reason == "Refused by the server."
