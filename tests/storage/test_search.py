"""Dealer search: Chinese substrings, pinyin, phone digits, ranking and freshness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from fieldrep.storage import derived, search, sorting
from fieldrep.storage.db import alembic_config, make_engine, open_database
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.services.contacts import add_contact, delete_contact, update_contact
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.dealers import delete_dealer, update_dealer
from fieldrep.storage.types import new_id

MakeDealer = Callable[..., Record]


@pytest.fixture
def find(engine: Engine) -> Callable[..., list[str]]:
    """Names of the dealers a query finds, best first."""

    def run(query: str, limit: int = 50, **kwargs: Any) -> list[str]:
        with Session(engine) as session:
            return [hit.name for hit in search.search_dealers(session, query, limit, **kwargs)]

    return run


@pytest.fixture
def find_ids(engine: Engine) -> Callable[..., list[str]]:
    """Ids of the dealers a query finds, best first."""

    def run(query: str, limit: int = 1000) -> list[str]:
        with Session(engine) as session:
            return [hit.dealer_id for hit in search.search_dealers(session, query, limit)]

    return run


def integrity_check(engine: Engine) -> None:
    """FTS5 compares its index with search_doc and raises on any difference."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)"
        )


def test_chinese_substrings_of_any_length(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="青岛海信电器有限公司")
    make_dealer(name="上海新华书店")
    assert find("海信") == ["青岛海信电器有限公司"]
    assert find("信电") == ["青岛海信电器有限公司"]
    assert find("海信电器") == ["青岛海信电器有限公司"]
    assert find("电器有限公司") == ["青岛海信电器有限公司"]
    assert sorted(find("海")) == ["上海新华书店", "青岛海信电器有限公司"]
    assert find("新华") == ["上海新华书店"]
    # Characters that are not adjacent are not a substring.
    assert find("海电") == []
    assert find("信海") == []


def test_several_terms_must_all_match(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="海信电器专卖店", city="青岛市")
    make_dealer(name="海信电器专卖店", city="济南市")
    assert find("海信 青岛") == ["海信电器专卖店"]
    assert len(find("海信 专卖")) == 2
    assert find("海信 北京") == []


def test_pinyin_full_initials_and_mixed_case(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="青岛海信电器有限公司", short_name="海信电器")
    make_dealer(name="济南华联商厦")
    for query in ("haixin", "HaiXin", "hxdq", "HXDQ", "qdhx", "qingdaohaixin", "haixindianqi"):
        assert find(query) == ["青岛海信电器有限公司"], query
    # From the start of any syllable of the name: 海信电器 is found by its middle.
    assert find("xindian") == ["青岛海信电器有限公司"]
    assert find("xdq") == ["青岛海信电器有限公司"]
    # Not from the middle of a syllable.
    assert find("aixin") == []
    assert find("hlss") == ["济南华联商厦"]  # 商厦 reads shang sha
    assert find("hualian") == ["济南华联商厦"]


def test_polyphones_read_in_context_and_by_common_alternatives(
    make_dealer: MakeDealer, find: Any
) -> None:
    make_dealer(name="重庆长安汽车销售有限公司")
    make_dealer(name="单县五金商行")
    assert find("chongqing") == ["重庆长安汽车销售有限公司"]
    assert find("changan") == ["重庆长安汽车销售有限公司"]
    assert find("cqca") == ["重庆长安汽车销售有限公司"]
    assert find("zhongqing") == []
    # 单县 is Shan Xian; pypinyin reads 单 alone as dan: both are indexed.
    assert find("shanxian") == ["单县五金商行"]
    assert find("danxian") == ["单县五金商行"]
    assert find("sxwj") == ["单县五金商行"]


def test_legal_form_needs_no_pinyin(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="青岛海信电器有限公司")
    # The whole name still matches from its start, Chinese and pinyin.
    assert find("qingdaohaixindianqiyouxiangongsi") == ["青岛海信电器有限公司"]
    assert find("有限公司") == ["青岛海信电器有限公司"]
    # But the legal form alone is not a pinyin word of the name.
    assert find("youxiangongsi") == []


def test_contacts_find_their_dealer(store: Store, make_dealer: MakeDealer, find: Any) -> None:
    dealer = make_dealer(name="烟台万家福超市")
    make_dealer(name="威海百货大楼")
    add_contact(store, dealer.id, {"name": "曾志伟", "mobile": "13812345678"})
    assert find("曾志伟") == ["烟台万家福超市"]
    assert find("志伟") == ["烟台万家福超市"]
    assert find("zengzhiwei") == ["烟台万家福超市"]
    assert find("zzw") == ["烟台万家福超市"]
    # 曾 alone is read ceng by pypinyin; both readings are indexed.
    assert find("cengzhiwei") == ["烟台万家福超市"]


def test_phone_digits(store: Store, make_dealer: MakeDealer, find: Any) -> None:
    dealer = make_dealer(name="潍坊宏达五金", phone="0536-8231234")
    make_dealer(name="日照东方建材", phone="0633-7654321")
    add_contact(store, dealer.id, {"name": "李强", "mobile": "13912345678"})
    for query in (
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "1391234",
        "5678",  # the last four digits
        "12345678",  # the last eight
        "0536-8231234",
        "05368231234",
        "8231234",  # the local number without area code
        "(0536)823",
    ):
        assert find(query) == ["潍坊宏达五金"], query
    assert find("99998888") == []
    assert find("1234 5678") == ["潍坊宏达五金"]  # digits in groups are one number
    assert find("5678 1234") == []


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("13812345678", "+86 138 1234 5678"),
        ("13812345678", "0086-13812345678"),
        ("8613812345678", "13812345678"),
        ("+86 532 8888 1234", "0532-88881234"),
        ("+86 532 8888 1234", "8888 1234"),
        ("0532-88881234", "+86 532 8888 1234"),
        ("(010) 1234 5678", "010-12345678"),
        ("010 1234 5678", "+86 10 1234 5678"),
        ("0535-1234567", "1234567"),
        ("05351234567", "1234567"),
        ("0535-1234567 / 13912345678", "13912345678"),
    ],
)
def test_phone_numbers_match_however_written(
    engine: Engine, make_dealer: MakeDealer, find: Any, stored: str, query: str
) -> None:
    dealer = make_dealer(name="潍坊宏达五金")
    make_dealer(name="日照东方建材", phone="0633-7654321")
    # Written as it came (imports and sync bring numbers in any format).
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE dealer SET phone = :phone WHERE id = :id"),
            {"phone": stored, "id": dealer.id},
        )
    assert find(query) == ["潍坊宏达五金"]


def test_address_city_and_notes(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(
        name="临沂鑫源商贸", city="临沂市", address="兰山区解放路18号", notes="老板看重账期"
    )
    assert find("解放路") == ["临沂鑫源商贸"]
    assert find("兰山") == ["临沂鑫源商贸"]
    assert find("账期") == ["临沂鑫源商贸"]
    assert find("linyi") == ["临沂鑫源商贸"]


def test_latin_words_and_full_width_forms(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="ＴＣＬ王牌电器青岛专卖店")
    assert find("tcl") == ["ＴＣＬ王牌电器青岛专卖店"]
    assert find("TCL王牌") == ["ＴＣＬ王牌电器青岛专卖店"]
    assert find("ＴＣＬ") == ["ＴＣＬ王牌电器青岛专卖店"]
    assert find("wangpai") == ["ＴＣＬ王牌电器青岛专卖店"]


def test_prefix_hits_then_name_hits_then_the_rest(
    engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    make_dealer(name="济南鸿运商贸", notes="海信的老客户")
    make_dealer(name="青岛海信电器专卖店")
    make_dealer(name="海信电器济南分公司")
    make_dealer(name="海尔专卖店", address="海信路1号")
    assert find("海信") == [
        "海信电器济南分公司",
        "青岛海信电器专卖店",
        "海尔专卖店",
        "济南鸿运商贸",
    ]
    with Session(engine) as session:
        scores = [hit.score for hit in search.search_dealers(session, "海信")]
    assert scores == sorted(scores, reverse=True)


def test_a_term_in_the_name_beats_terms_elsewhere(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="鸿运商贸", city="济南市", notes="想做海信，在青岛有仓库")
    make_dealer(name="海信专卖店", city="青岛市")
    make_dealer(name="青岛海信电器")
    # The name starts with the first term, then a term in the name, then the rest.
    assert find("青岛 海信") == ["青岛海信电器", "海信专卖店", "鸿运商贸"]


def test_short_name_prefix_counts(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="青岛海信电器有限公司", short_name="海信电器")
    make_dealer(name="海尔专卖店", notes="隔壁是海信")
    assert find("haixin") == ["青岛海信电器有限公司"]
    assert find("海信") == ["青岛海信电器有限公司", "海尔专卖店"]


def test_limit_and_territories(store: Store, make_dealer: MakeDealer, find: Any) -> None:
    for number in range(5):
        make_dealer(name=f"海信专卖店{number}")
    other = new_id()
    assert len(find("海信", limit=3)) == 3
    assert len(find("海信")) == 5
    assert len(find("海信", territory_ids=[store.user.territory_id])) == 5
    assert find("海信", territory_ids=[other]) == []
    assert find("海信", territory_ids=[]) == []
    assert find("海信", territory_ids=["", '"', "*"]) == []
    with pytest.raises(ValidationError) as error:
        find("海信", limit=0)
    assert error.value.fields == ["limit"]


def test_territory_filter(engine: Engine, make_dealer: MakeDealer, find: Any) -> None:
    mine = make_dealer(name="海信专卖店甲")
    other_territory = new_id()
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE dealer SET territory_id = :t WHERE id = :id"),
            {"t": other_territory, "id": mine.id},
        )
    make_dealer(name="海信专卖店乙")
    assert find("海信", territory_ids=[other_territory]) == ["海信专卖店甲"]
    assert find("海信", territory_ids=[mine["territory_id"]]) == ["海信专卖店乙"]
    assert sorted(find("海信", territory_ids=[other_territory, mine["territory_id"]])) == [
        "海信专卖店乙",
        "海信专卖店甲",
    ]


HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    '"海信',
    "海信\"'",
    "*",
    "hx*",
    "^海信",
    "(海信",
    "海信)",
    "NEAR(海 信)",
    "海信 AND",
    "OR 海信",
    "NOT",
    "a OR b AND NOT c",
    "name:海信",
    "{name}: 海信",
    "-海信",
    "+",
    "😀",
    "海😀信",
    "\x00",
    "\ue000",
    "\x1f",
    "'; DROP TABLE dealer; --",
    "海" * 500,
    " ".join(["海信"] * 100),
    "%_",
    "\\",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_break_the_match_syntax(
    make_dealer: MakeDealer, find: Any, query: str
) -> None:
    make_dealer(name="青岛海信电器")
    found = find(query)
    assert found in ([], ["青岛海信电器"])


def test_quotes_and_operators_are_plain_text(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="青岛海信电器")
    make_dealer(name="NEAR OR AND 贸易行")
    assert find('"海信"') == ["青岛海信电器"]
    assert find("海信*") == ["青岛海信电器"]
    assert find("(海信)") == ["青岛海信电器"]
    assert find("NEAR") == ["NEAR OR AND 贸易行"]
    assert find("or and") == ["NEAR OR AND 贸易行"]
    assert find("海信 OR 贸易") == []


def test_match_expression_quotes_every_token() -> None:
    assert search.match_expression("") is None
    assert search.match_expression('"*()') is None
    assert search.match_expression("海信") == '"海 信"'
    assert search.match_expression("hxdq") == '"hxdq" *'
    assert search.match_expression("TCL王") == '"tcl 王"'
    assert search.match_expression("A3 海信") == '"a3" * AND "海 信"'
    assert search.match_expression("0532-8888 1234") == '"053288881234" *'
    assert search.match_expression("+86 138 1234 5678") == '"13812345678" *'
    assert search.match_expression("1234 海信 5678") == '"1234" * AND "海 信" AND "5678" *'


# ------------------------------------------------------------------ freshness


def test_update_keeps_the_index_current(
    store: Store, engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    dealer = make_dealer(name="青岛海信电器")
    update_dealer(store, dealer.id, {"name": "青岛海尔电器", "notes": "改名了"})
    assert find("海信") == []
    assert find("haier") == ["青岛海尔电器"]
    assert find("改名") == ["青岛海尔电器"]
    integrity_check(engine)


def test_raw_sql_writes_keep_the_index_current(
    engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    dealer = make_dealer(name="青岛海信电器")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE dealer SET name = '烟台张裕酒业' WHERE id = :id"), {"id": dealer.id}
        )
    assert find("海信") == []
    assert find("张裕") == ["烟台张裕酒业"]
    assert find("zhangyu") == ["烟台张裕酒业"]
    integrity_check(engine)


def test_unrelated_columns_do_not_touch_the_index(engine: Engine, make_dealer: MakeDealer) -> None:
    dealer = make_dealer(name="青岛海信电器")
    with engine.connect() as connection:
        before = connection.execute(
            text("SELECT docid FROM search_doc WHERE dealer_id = :id"), {"id": dealer.id}
        ).scalar_one()
        connection.execute(
            text("UPDATE dealer SET employee_count = 12 WHERE id = :id"), {"id": dealer.id}
        )
        connection.commit()
        after = connection.execute(
            text("SELECT docid FROM search_doc WHERE dealer_id = :id"), {"id": dealer.id}
        ).scalar_one()
    assert before == after


def test_contact_insert_update_delete_refresh_their_dealer(
    store: Store, engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    first = make_dealer(name="烟台万家福超市")
    second = make_dealer(name="威海百货大楼")
    contact = add_contact(store, first.id, {"name": "王建国", "mobile": "13712345678"})
    assert find("王建国") == ["烟台万家福超市"]
    update_contact(store, contact.id, {"name": "王建军", "mobile": "13787654321"})
    assert find("王建国") == []
    assert find("12345678") == []
    assert find("王建军") == ["烟台万家福超市"]
    assert find("87654321") == ["烟台万家福超市"]
    # Moved to another dealer by a raw write (as a sync might): both documents change.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE contact SET dealer_id = :d WHERE id = :id"),
            {"d": second.id, "id": contact.id},
        )
    assert find("王建军") == ["威海百货大楼"]
    delete_contact(store, contact.id)
    assert find("王建军") == []
    assert find("wjj") == []
    integrity_check(engine)


def test_hard_deleted_contact_leaves_the_index(
    store: Store, engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    dealer = make_dealer(name="烟台万家福超市")
    contact = add_contact(store, dealer.id, {"name": "赵丽华"})
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM contact WHERE id = :id"), {"id": contact.id})
    assert find("赵丽华") == []
    assert find("万家福") == ["烟台万家福超市"]
    integrity_check(engine)


def test_tombstoned_dealers_vanish_and_come_back(
    store: Store, engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    gone = make_dealer(name="青岛海信电器")
    make_dealer(name="海信专卖店")
    delete_dealer(store, gone.id)
    assert find("海信") == ["海信专卖店"]
    assert find("hxdq") == []
    with engine.begin() as connection:
        connection.execute(text("UPDATE dealer SET deleted = 0 WHERE id = :id"), {"id": gone.id})
    assert sorted(find("海信")) == ["海信专卖店", "青岛海信电器"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE dealer SET deleted = 1 WHERE id = :id"), {"id": gone.id})
    assert find("海信") == ["海信专卖店"]
    integrity_check(engine)


def test_hard_deleted_dealer_leaves_the_index(
    engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    dealer = make_dealer(name="青岛海信电器")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM dealer WHERE id = :id"), {"id": dealer.id})
        remaining = connection.execute(text("SELECT count(*) FROM search_doc")).scalar_one()
    assert remaining == 0
    assert find("海信") == []
    integrity_check(engine)


def _dealer_row(name: str, territory_id: str, **values: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "territory_id": territory_id,
        "name": name,
        "short_name": None,
        "city": None,
        "address": None,
        "phone": None,
        "legal_rep": None,
        "notes": None,
        "deleted": 0,
    }
    row.update(values)
    return row


_INSERT_DEALER = (
    "INSERT INTO dealer (id, territory_id, name, short_name, city, address, phone, legal_rep,"
    " notes, deleted, created_at, updated_at, abc_class, is_key_account, is_benchmark,"
    " lifecycle_status, status, tier, has_business_license) VALUES (:id, :territory_id, :name,"
    " :short_name, :city, :address, :phone, :legal_rep, :notes, :deleted,"
    " '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', 'B', 0, 0, 'cooperating',"
    " 'active', 'dealer', 0)"
)
_UPSERT_DEALER = _INSERT_DEALER + (
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, deleted = excluded.deleted"
)
_INSERT_CONTACT = (
    "INSERT INTO contact (id, territory_id, dealer_id, name, phone, mobile, deleted, created_at,"
    " updated_at, decision_role, is_senior, is_business_contact, is_settlement_contact,"
    " is_counterpart, is_sales_staff, is_shop_assistant, can_block) VALUES (:id,"
    " :territory_id, :dealer_id, :name, :phone, :mobile, :deleted, '2026-01-01T00:00:00+00:00',"
    " '2026-01-01T00:00:00+00:00', 'unknown', 0, 0, 0, 0, 0, 0, 0)"
)


def test_rows_applied_like_sync_are_indexed(store: Store, engine: Engine, find: Any) -> None:
    """A sync applies rows with plain SQL, children possibly before their parent."""
    territory = store.user.territory_id
    dealer = _dealer_row("潍坊宏达五金", territory)
    with engine.begin() as connection:
        connection.execute(
            text(_INSERT_CONTACT),
            {
                "id": new_id(),
                "territory_id": territory,
                "dealer_id": dealer["id"],
                "name": "孙红梅",
                "phone": None,
                "mobile": "15012345678",
                "deleted": 0,
            },
        )
        connection.execute(text(_INSERT_DEALER), dealer)
    assert find("孙红梅") == ["潍坊宏达五金"]
    with engine.begin() as connection:
        connection.execute(text(_UPSERT_DEALER), {**dealer, "name": "潍坊宏达建材"})
    assert find("五金") == []
    assert find("hdjc") == ["潍坊宏达建材"]
    with engine.begin() as connection:
        connection.execute(text(_UPSERT_DEALER), {**dealer, "name": "潍坊宏达建材", "deleted": 1})
    assert find("宏达") == []
    integrity_check(engine)


# ------------------------------------------------------------ bulk and rebuild

SAMPLE_DEALERS = [
    ("青岛海信电器有限公司", "海信电器", "青岛市", "市南区香港中路8号", "0532-88881234", "王强"),
    ("重庆长安汽车销售有限公司", None, "重庆市", "江北区建新北路1号", "023-67891234", "曾志伟"),
    ("单县五金商行", "单县五金", "菏泽市", "单县人民路12号", "0530-4661234", "刘芳"),
    ("济南华联商厦", None, "济南市", "历下区泉城路1号", "0531-86061234", None),
    ("ＴＣＬ王牌电器专卖店", "TCL", "惠州市", "仲恺大道1号", None, "李娜"),
]
SAMPLE_CONTACTS = [
    (0, "张伟", "13812345678"),
    (0, "李秀英", "13912340000"),
    (1, "朝晖", "15088886666"),
    (2, "解放", None),
    (3, "赵敏", "18600001111"),
    (3, "赵敏", "18600002222"),
]
SAMPLE_QUERIES = [
    "海信",
    "海",
    "hxdq",
    "haixin",
    "chongqing",
    "shanxian",
    "张伟",
    "zhaomin",
    "1234",
    "13812345678",
    "tcl",
    "电器",
    "市",
    "zhaohui",
    "xiefang",
    "xf",
]


def _load_sample(connection: Connection, territory: str) -> None:
    ids = []
    for name, short, city, address, phone, legal_rep in SAMPLE_DEALERS:
        row = _dealer_row(
            name,
            territory,
            short_name=short,
            city=city,
            address=address,
            phone=phone,
            legal_rep=legal_rep,
        )
        connection.execute(text(_INSERT_DEALER), row)
        ids.append(row["id"])
    for index, name, mobile in SAMPLE_CONTACTS:
        connection.execute(
            text(_INSERT_CONTACT),
            {
                "id": new_id(),
                "territory_id": territory,
                "dealer_id": ids[index],
                "name": name,
                "phone": None,
                "mobile": mobile,
                "deleted": 0,
            },
        )
    connection.execute(text("UPDATE dealer SET deleted = 1 WHERE name = '济南华联商厦'"))


def _results(engine: Engine) -> list[list[tuple[str, float]]]:
    with Session(engine) as session:
        return [
            [(hit.name, round(hit.score, 6)) for hit in search.search_dealers(session, query)]
            for query in SAMPLE_QUERIES
        ]


def _documents(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        columns = ", ".join(f"doc.{column}" for column in search.DOCUMENT_COLUMNS)
        statement = (
            f"SELECT d.name, {columns} FROM search_doc AS doc"
            " JOIN dealer AS d ON d.id = doc.dealer_id ORDER BY d.name"
        )
        return [tuple(row) for row in connection.execute(text(statement))]


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search%'"
                )
            ).scalars()
        )


def test_bulk_load_and_rebuild_match_the_triggers(tmp_path: Path, store: Store) -> None:
    territory = store.user.territory_id
    by_trigger = open_database(tmp_path / "trigger.db")
    by_bulk = open_database(tmp_path / "bulk.db")
    try:
        with by_trigger.begin() as connection:
            _load_sample(connection, territory)
        triggers = _triggers(by_bulk)
        with by_bulk.begin() as connection, derived.bulk_load(connection):
            _load_sample(connection, territory)
            # Nothing is indexed while the triggers are suspended.
            assert connection.execute(text("SELECT count(*) FROM search_doc")).scalar_one() == 0
        assert _triggers(by_bulk) == triggers
        assert len(triggers) == 7
        assert _documents(by_bulk) == _documents(by_trigger)
        assert _results(by_bulk) == _results(by_trigger)
        assert _results(by_bulk)[0][0][0] == "青岛海信电器有限公司"
        assert all(
            "济南华联商厦" not in {name for name, _ in result} for result in _results(by_bulk)
        )
        integrity_check(by_bulk)
        integrity_check(by_trigger)
    finally:
        by_trigger.dispose()
        by_bulk.dispose()


def test_rebuild_index_repairs_a_damaged_index(
    engine: Engine, make_dealer: MakeDealer, find: Any
) -> None:
    make_dealer(name="青岛海信电器")
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM search_doc")
        connection.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
    assert find("海信") == []
    with engine.begin() as connection:
        search.rebuild_index(connection)
    assert find("海信") == ["青岛海信电器"]
    integrity_check(engine)


def test_migration_indexes_dealers_that_existed_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(path)
    try:
        command.upgrade(alembic_config(engine), "0001")
        with engine.begin() as connection:
            connection.execute(text(_INSERT_DEALER), _dealer_row("青岛海信电器", new_id()))
        command.upgrade(alembic_config(engine), "head")
        with Session(engine) as session:
            hits = search.search_dealers(session, "hxdq")
        assert [hit.name for hit in hits] == ["青岛海信电器"]
        command.downgrade(alembic_config(engine), "0001")
        with engine.connect() as connection:
            leftovers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'search%'")
            ).all()
        assert leftovers == []
    finally:
        engine.dispose()


def test_a_bare_sqlite_connection_can_write_after_install(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "bare.db"
    open_database(path).dispose()
    raw = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match=r"fr_search_column|fr_name_sort_key"):
            raw.execute(text_sql := _INSERT_DEALER.replace(":", "@"), _dealer_row("甲", "t"))
        search.install_functions(raw)
        sorting.install_functions(raw)
        raw.execute(text_sql, _dealer_row("青岛海信电器", "t"))
        raw.commit()
        assert raw.execute("SELECT count(*) FROM search_doc").fetchone() == (1,)
        assert raw.execute("SELECT name_sort FROM dealer").fetchone() == (
            "qing dao hai xin dian qi\x01青岛海信电器",
        )
    finally:
        raw.close()


# ------------------------------------------------------------------ analysis


def test_document_columns() -> None:
    document = search.dealer_document(
        search.DealerSource(
            name="青岛海信电器有限公司",
            short_name="海信电器",
            city="青岛市",
            phone="0532-8888 1234",
            address="青岛市市南区香港中路8号",
            contact_names=["曾志伟", "王芳"],
            contact_phones=["13812345678"],
        )
    )
    # The short name and the city are part of longer values: indexed once.
    assert document["name"] == "青 岛 海 信 电 器 有 限 公 司"
    assert document["place"] == "青 岛 市 市 南 区 香 港 中 路 8 号"
    assert document["people"] == f"曾 志 伟 {search.VALUE_BREAK} 王 芳"
    head = document["head"].split()
    assert head[:3] == ["青岛海信电器有限公司", "qingdaohaixindianqiyouxiangongsi", "qdhxdqyxgs"]
    name_py = set(document["name_py"].split())
    assert {"qingdaohaixindianqi", "haixindianqi", "xindianqi", "hxdq", "xdq"} <= name_py
    assert "youxiangongsi" not in name_py
    assert {"zengzhiwei", "cengzhiwei", "zzw", "czw", "qingdaoshi"} <= set(
        document["other_py"].split()
    )
    phones = set(document["phone"].split())
    assert {"053288881234", "53288881234", "88881234", "1234", "13812345678", "5678"} <= phones
    assert document["notes"] == ""


def test_sql_function_and_python_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT fr_search_column('name_py', '海信电器', NULL)")
        ).scalar_one()
    assert value == search.column_text("name_py", "海信电器", None)
    with pytest.raises(ValueError, match="unknown search column"):
        search.column_text("nonsense", "x")


# ------------------------------------------------------------------ properties

# Common characters of dealer and personal names, polyphones among them.
NAME_CHARACTERS = (
    "海信电器青岛重庆长安单县华联商厦行乐曾朝都和大会解查区"
    "王李张刘陈杨黄赵新鑫源泰宏盛兴发祥瑞丰恒通远佳"
)
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _insert_named(engine: Engine, name: str) -> str:
    row = _dealer_row(name, "0190a000-0000-7000-8000-000000000001")
    with engine.begin() as connection:
        connection.execute(text(_INSERT_DEALER), row)
    return str(row["id"])


@PROPERTY_SETTINGS
@given(name=st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=12), data=st.data())
def test_every_substring_of_a_name_finds_it(
    engine: Engine, find_ids: Any, name: str, data: st.DataObject
) -> None:
    dealer_id = _insert_named(engine, name)
    start = data.draw(st.integers(0, len(name) - 1))
    end = data.draw(st.integers(start + 1, len(name)))
    assert dealer_id in find_ids(name[start:end])


@PROPERTY_SETTINGS
@given(name=st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=12), data=st.data())
def test_pinyin_from_any_syllable_finds_the_name(
    engine: Engine, find_ids: Any, name: str, data: st.DataObject
) -> None:
    dealer_id = _insert_named(engine, name)
    syllables = search.reading_variants(name)[0]
    start = data.draw(st.integers(0, len(syllables) - 1))
    end = data.draw(st.integers(start + 1, len(syllables)))
    full = "".join(syllables[start:end])
    typed = full[: data.draw(st.integers(1, len(full)))]
    initials = "".join(syllable[0] for syllable in syllables[start:end])
    assert dealer_id in find_ids(typed)
    assert dealer_id in find_ids(initials.upper())


@PROPERTY_SETTINGS
@given(query=st.text(max_size=40))
def test_any_text_is_a_valid_query(engine: Engine, find_ids: Any, query: str) -> None:
    assert isinstance(find_ids(query), list)


def test_a_faulty_column_does_not_refuse_the_write(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make_dealer: MakeDealer,
    find: Any,
) -> None:
    def broken(values: list[str]) -> str:
        raise RuntimeError("broken")

    monkeypatch.setitem(search._BUILDERS, "notes", broken)
    make_dealer(name="青岛海信电器", notes="备注")
    assert find("海信") == ["青岛海信电器"]
    assert find("备注") == []
    assert "cannot index column notes" in caplog.text


def test_pinyin_u_umlaut_is_typed_as_v(make_dealer: MakeDealer, find: Any) -> None:
    make_dealer(name="绿源电动车")
    assert find("lvyuan") == ["绿源电动车"]
    assert find("lüyuan") == ["绿源电动车"]
    assert find("LÜYUAN") == ["绿源电动车"]


def test_query_plans_start_from_the_index(engine: Engine) -> None:
    """Without ANALYZE statistics SQLite may prefer an index on dealer.deleted and
    walk every dealer; the search statements must start from the search tables."""
    with engine.connect() as connection:
        hits = f"EXPLAIN QUERY PLAN {search._DEALERS_SQL}"
        plan = [row[3] for row in connection.exec_driver_sql(hits, ("[1, 2]",))]
        assert plan[0].startswith("SEARCH doc USING INTEGER PRIMARY KEY"), plan
        assert not any(step.startswith("SCAN d") for step in plan), plan
        rebuild = "EXPLAIN QUERY PLAN SELECT * FROM search_source"
        assert next(row[3] for row in connection.exec_driver_sql(rebuild)) == "SCAN d"
        one = "EXPLAIN QUERY PLAN SELECT * FROM search_source WHERE dealer_id = 'x'"
        assert "(id=?)" in next(row[3] for row in connection.exec_driver_sql(one))


def test_a_known_match_count_skips_tiers_that_can_add_nothing(
    make_dealer: MakeDealer, find: Any
) -> None:
    make_dealer(name="海信电器")
    make_dealer(name="青岛海信")
    assert find("海信") == ["海信电器", "青岛海信"]
    assert find("海信", matches=2) == ["海信电器", "青岛海信"]
    # Told that one document matches, the search stops once the prefix tier found it.
    assert find("海信", matches=1) == ["海信电器"]
