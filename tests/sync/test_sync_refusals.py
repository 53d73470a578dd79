"""Refusal reasons kept as codes in the outbox and worded when read."""

from __future__ import annotations

import uuid

from fieldrep.i18n import language
from fieldrep.sync.protocol import FieldIssue, OpResult, Reason
from fieldrep.sync.refusals import Refusal, reason_text


def test_a_stored_refusal_is_worded_in_the_language_it_is_read_in() -> None:
    result = OpResult(
        op_id=uuid.uuid4(),
        status="rejected",
        reason=Reason.MISSING_FIELD,
        message="name: a value is required.",
        params={"field": "name"},
    )
    stored = Refusal.of_result(result).stored()
    with language("en"):
        assert reason_text(stored) == "name: a value is required."
    with language("zh_CN"):
        assert reason_text(stored) == "name：必须填写。"


def test_a_field_issue_names_its_field_when_the_server_left_it_out() -> None:
    issue = FieldIssue(field="abc_class", reason=Reason.MANAGER_ONLY, message="refused")
    with language("en"):
        assert reason_text(Refusal.of_issue(issue).stored()) == (
            "abc_class: only a manager can change this."
        )


def test_without_a_known_code_the_servers_own_words_are_shown() -> None:
    with language("zh_CN"):
        assert Refusal(None, (), "Disk full on the server.").text() == "Disk full on the server."
        assert Refusal("a_newer_reason", (), None).text() == "服务器拒绝了此更改。"
        assert reason_text(None) == "服务器拒绝了此更改。"


def test_plain_text_of_older_rows_reads_as_it_is() -> None:
    with language("en"):
        for text in ("城市：必须填写。", "{broken", '{"field": "x"}', "[1, 2]"):
            assert reason_text(text) == text
