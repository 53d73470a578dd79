"""An answer of the rep's home territory picked at a dealer of his other territory.

The server refuses an objection naming an answer of another territory
(PARENT_OUT_OF_SCOPE: a device of the dealer's territory could not hold it).
The visit record offers the team's whole playbook everywhere, so saving the
visit copies the picked answer into the dealer's territory with the objection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from synce2e import Device, World, server_rows

from fieldrep.server.services import admin
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.storage.services.playbook import add_answer, playbook_stats
from fieldrep.storage.services.visits import ObjectionDraft, VisitDraft, record_visit


def test_the_server_accepts_an_objection_naming_the_copy_made_at_the_visit(
    world: World, tmp_path: Path
) -> None:
    ningbo = admin.add_territory(world.database, "宁波", region="华东", manager="mona")
    admin.assign(world.database, "alice", "宁波")
    alice = Device(world, tmp_path, "alice")
    try:
        alice.sync()
        user = alice.store.user
        home = user.territory_id
        [away] = {world.territory, ningbo} - {home}
        answer = add_answer(
            alice.store, {"type": "price", "title": "用数据证明", "answer_text": "拿出同城销量数据"}
        )
        # A dealer of alice's other territory (as if pulled from there).
        there = Store(alice.engine, UserContext(user.user_id, away, user.role, user.display_name))
        dealer = create_dealer(there, {"name": "宁波远方商贸", "abc_class": "B"})
        assert dealer["territory_id"] == away != answer["territory_id"]

        result = record_visit(
            alice.store,
            VisitDraft(
                dealer_id=dealer.id,
                contact_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                content="谈价格",
                objections=(
                    ObjectionDraft(
                        "price", "太贵了", playbook_answer_id=answer.id, outcome="resolved"
                    ),
                ),
            ),
        )
        [saved] = result.objections
        alice.sync()

        assert alice.outbox() == [] and alice.outbox("rejected") == [], "all accepted"
        rows = server_rows(world)
        objection = rows[("objection", saved.id)]
        named = rows[("objection_answer", objection["playbook_answer_id"])]
        assert objection["territory_id"] == named["territory_id"] == away
        assert (named["type"], named["title"], named["answer_text"]) == (
            "price",
            "用数据证明",
            "拿出同城销量数据",
        )
        assert rows[("objection_answer", answer.id)]["territory_id"] == home
        # Still one answer in the playbook, its use counted.
        [entry] = playbook_stats(alice.store, "price")
        assert (entry.answer_id, entry.times_used, entry.times_resolved) == (answer.id, 1, 1)
    finally:
        alice.close()
