"""Field labels for every column, and typed text turned into column values."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from fieldrep.i18n import translate
from fieldrep.storage.enums import AbcClass, FollowUpStatus, ObjectionType
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import (
    SYNC_COLUMNS,
    editable_fields,
    field_label,
    parse_field_value,
)
from fieldrep.storage.models import (
    Base,
    CompetitorNote,
    Contact,
    Dealer,
    FollowUp,
    Objection,
    TrainingSession,
    VisitPlanItem,
)


def all_models() -> list[type[Base]]:
    return sorted((mapper.class_ for mapper in Base.registry.mappers), key=lambda m: m.__name__)


def test_every_column_of_every_model_has_a_label() -> None:
    missing = []
    for model in all_models():
        for column in model.__table__.columns:
            try:
                label = field_label(model, column.key)
            except KeyError:
                missing.append(f"{model.__name__}.{column.key}")
                continue
            assert label.strip(), f"{model.__name__}.{column.key} has a blank label"
    assert missing == []


def test_labels_named_in_the_brief() -> None:
    assert field_label(Dealer, "name") == "Dealer name"
    assert field_label(FollowUp, "due_on") == "Due date"
    assert field_label("FollowUp", "owner_user_id") == "Owner"


def test_unknown_column_has_no_label() -> None:
    with pytest.raises(KeyError):
        field_label(Dealer, "no_such_column")


def test_editable_fields_exclude_sync_columns() -> None:
    for model in all_models():
        fields = editable_fields(model)
        assert not SYNC_COLUMNS & set(fields)
        assert fields, model.__name__
    assert editable_fields(Dealer)[0] == "name"
    assert "due_on" in editable_fields(FollowUp)


@pytest.mark.parametrize(
    ("model", "field", "text", "expected"),
    [
        (Dealer, "name", "  海信电器  ", "海信电器"),
        (Dealer, "outlet_count", "12", 12),
        (Dealer, "outlet_count", "1,200", 1200),
        (Dealer, "registered_capital", "¥1,000,000.50", Decimal("1000000.50")),
        (Dealer, "relationship_start_date", "2024-05-01", date(2024, 5, 1)),
        (Dealer, "relationship_start_date", "2024/05/01", date(2024, 5, 1)),
        (Dealer, "is_key_account", "是", True),
        (Dealer, "is_key_account", "否", False),
        (Dealer, "is_key_account", "Yes", True),
        (Dealer, "is_key_account", "false", False),
        (Dealer, "is_key_account", "1", True),
        (Dealer, "is_key_account", "0", False),
        (Dealer, "abc_class", "A", AbcClass.A),
        (Dealer, "abc_class", "Class B", AbcClass.B),
        (FollowUp, "status", "done", FollowUpStatus.DONE),
        (Objection, "type", "Price objection", ObjectionType.PRICE),
        (VisitPlanItem, "time_slot", "14:30", time(14, 30)),
        (
            TrainingSession,
            "attendees",
            "张三, 李四、王五\n赵六；",
            ["张三", "李四", "王五", "赵六"],
        ),
        (
            CompetitorNote,
            "observed_at",
            "2026-03-01T09:30:00+08:00",
            datetime(2026, 3, 1, 1, 30, tzinfo=UTC),
        ),
        (Contact, "birth_date", "", None),
    ],
)
def test_parse_field_value(model: type[Base], field: str, text: str, expected: object) -> None:
    assert parse_field_value(model, field, text) == expected


def test_enum_accepts_the_chinese_label_when_translated() -> None:
    chinese = translate(AbcClass.A.english, "zh_CN")
    if chinese == AbcClass.A.english:
        pytest.skip("zh_CN catalogue not compiled")
    # LabelledEnum.parse compares with the label of the current language (zh_CN by default).
    assert parse_field_value(Dealer, "abc_class", chinese) == AbcClass.A


@pytest.mark.parametrize(
    ("model", "field", "text"),
    [
        (Dealer, "outlet_count", "twelve"),
        (Dealer, "outlet_count", "1.5"),
        (Dealer, "registered_capital", "lots"),
        (Dealer, "registered_capital", "NaN"),
        (Dealer, "relationship_start_date", "2024-13-01"),
        (Dealer, "relationship_start_date", "01.05.2024"),
        (Dealer, "is_key_account", "maybe"),
        (Dealer, "abc_class", "Z"),
        (VisitPlanItem, "time_slot", "25:00"),
        (CompetitorNote, "observed_at", "yesterday"),
        (Dealer, "name", "   "),
        (Dealer, "id", "x"),
    ],
)
def test_bad_text_names_the_field(model: type[Base], field: str, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_field_value(model, field, text)
    assert caught.value.fields == [field]
    label = field_label(model, field)
    assert caught.value.message("en").startswith(label + ": ")


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_field_value(Dealer, "colour", "red")
    assert caught.value.fields == ["colour"]


def test_bad_enum_lists_the_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_field_value(Dealer, "abc_class", "Z")
    assert "A / B / C" in caught.value.message("en")
    assert "Visit class" in caught.value.message("en")
