"""The PostgREST query-string parser on its own: no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from kds_backend.errors import ApiError
from kds_backend.postgrest.query import Field, Filter, Logic, Op, OrderTerm, ReadQuery, parse_columns, parse_query

OID = "7f1c6a52-5a0e-4b5b-9d59-3c8f4a1f0b11"


def q(table: str = "orders", **params: str) -> ReadQuery:
    return parse_query(table, list(params.items()))


def fails(code: str, table: str = "orders", params: list[tuple[str, str]] | None = None) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_query(table, params or [])
    assert info.value.body["code"] == code, info.value.body
    return info.value


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("eq.new", Op.eq, "new"),
        ("neq.new", Op.neq, "new"),
        ("gt.4", Op.gt, 4),
        ("gte.4", Op.gte, 4),
        ("lt.4", Op.lt, 4),
        ("lte.4", Op.lte, 4),
        ("ilike.*bur*", Op.ilike, "*bur*"),
        ("is.null", Op.is_, None),
    ],
)
def test_each_operator_is_parsed_with_a_typed_value(text: str, op: Op, value: object) -> None:
    column = "guests" if isinstance(value, int) else "notes" if op in (Op.is_, Op.ilike) else "status"
    (condition,) = q(**{column: text}).conditions
    assert condition == Filter(column, op, value)


def test_values_are_coerced_to_the_column_type() -> None:
    query = q(id=f"eq.{OID}", created_at="gte.2026-11-21T18:30:00+02:00", version="eq.3")
    uuid_filter, time_filter, int_filter = query.conditions
    assert uuid_filter.value == UUID(OID)
    assert time_filter.value == datetime(2026, 11, 21, 16, 30, tzinfo=UTC)
    assert int_filter.value == 3 and isinstance(int_filter.value, int)
    (held,) = q("order_items", held="eq.true").conditions
    assert held.value is True


def test_a_timestamp_without_offset_is_utc() -> None:
    (condition,) = q(due_at="lt.2026-11-21T18:30:00").conditions
    assert condition.value == datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
    assert condition.value.utcoffset() == timedelta(0)


def test_not_negates_any_operator() -> None:
    (condition,) = q(status="not.in.(served,cancelled)").conditions
    assert condition == Filter("status", Op.in_, ("served", "cancelled"), negated=True)
    (condition,) = q(notes="not.is.null").conditions
    assert condition == Filter("notes", Op.is_, None, negated=True)


def test_in_list_keeps_quoted_commas_and_escapes() -> None:
    (condition,) = q(number='in.(A1,"B,2","say \\"hi\\"")').conditions
    assert condition.value == ("A1", "B,2", 'say "hi"')
    (empty,) = q(number="in.()").conditions
    assert empty.value == ()


def test_is_true_and_false_on_booleans() -> None:
    assert q("order_items", held="is.true").conditions[0].value is True
    assert q("order_items", held="is.false").conditions[0].value is False


def test_repeated_column_filters_are_all_kept() -> None:
    query = parse_query("orders", [("guests", "gte.2"), ("guests", "lt.6")])
    assert [c.op for c in query.conditions] == [Op.gte, Op.lt]


def test_logic_trees_nest_and_unquote_values() -> None:
    query = q(**{"or": '(guests.gt.4,and(priority.eq.rush,notes.eq."a,b"))', "not.and": "(status.eq.new)"})
    assert query.conditions == (
        Logic(
            "or",
            (
                Filter("guests", Op.gt, 4),
                Logic("and", (Filter("priority", Op.eq, "rush"), Filter("notes", Op.eq, "a,b"))),
            ),
        ),
        Logic("and", (Filter("status", Op.eq, "new"),), negated=True),
    )


def test_select_columns_aliases_and_star() -> None:
    query = q(select="id,num:number")
    assert query.fields == (Field("id", "id"), Field("number", "num"))
    assert [f.column for f in q(select="*").fields][:3] == ["id", "restaurant_id", "number"]
    assert q().fields == q(select="*").fields


def test_select_embeds_one_level_with_its_own_filters_order_and_limit() -> None:
    query = parse_query(
        "orders",
        [
            ("select", "id,items:order_items(id,name)"),
            ("items.station", "eq.grill"),
            ("items.order", "name.desc"),
            ("items.limit", "2"),
            ("status", "eq.new"),
        ],
    )
    assert query.fields == (Field("id", "id"),)
    (embed,) = query.embeds
    assert embed.key == "items" and embed.relationship.target == "order_items" and embed.relationship.many
    assert embed.fields == (Field("id", "id"), Field("name", "name"))
    assert embed.conditions == (Filter("station", Op.eq, "grill"),)
    assert embed.order == (OrderTerm("name", descending=True),)
    assert embed.limit == 2 and not embed.inner
    # The embedded filter does not filter the parents.
    assert query.conditions == (Filter("status", Op.eq, "new"),)


def test_embedded_filters_may_name_the_table_and_inner_is_recognised() -> None:
    query = q(select="*,order_items!inner(*)", **{"order_items.station": "eq.grill"})
    (embed,) = query.embeds
    assert embed.inner and embed.conditions == (Filter("station", Op.eq, "grill"),)


def test_items_embed_their_order_as_one_object() -> None:
    (embed,) = q("order_items", select="id,orders(number)").embeds
    assert embed.relationship.target == "orders" and not embed.relationship.many


def test_order_terms() -> None:
    query = q(order="priority.desc,created_at.asc.nullsfirst,number.nullslast,id")
    assert query.order == (
        OrderTerm("priority", descending=True),
        OrderTerm("created_at", nulls_first=True),
        OrderTerm("number", nulls_first=False),
        OrderTerm("id"),
    )


def test_limit_and_offset() -> None:
    query = q(limit="10", offset="20")
    assert (query.limit, query.offset) == (10, 20)


def test_reserved_parameters_are_not_filters() -> None:
    assert q(apikey="abc", columns='"number"', select="id").conditions == ()


# ---------------------------------------------------------------- errors


def test_unknown_table_is_pgrst205_404() -> None:
    err = fails("PGRST205", table="ordrs")
    assert err.status == 404
    assert err.body["message"] == "Could not find the table 'public.ordrs' in the schema cache"
    assert err.body["hint"] == "Perhaps you meant the table 'public.orders'"


@pytest.mark.parametrize(
    "params",
    [
        [("nope", "eq.1")],
        [("select", "id,nope")],
        [("order", "nope.desc")],
        [("or", "(nope.eq.1)")],
        [("select", "*,order_items(nope)")],
    ],
)
def test_unknown_column_is_42703(params: list[tuple[str, str]]) -> None:
    err = fails("42703", params=params)
    assert err.status == 400 and "nope does not exist" in err.body["message"]


def test_unknown_column_hint_suggests_a_close_name() -> None:
    err = fails("42703", params=[("nubmer", "eq.1")])
    assert err.body["message"] == "column orders.nubmer does not exist"
    assert err.body["hint"] == 'Perhaps you meant to reference the column "orders.number".'


@pytest.mark.parametrize(
    "params",
    [
        [("status", "like.new")],
        [("status", "new")],
        [("status", "eq")],
        [("status", "not.new")],
        [("status", "in.new,old")],
        [("notes", "is.maybe")],
        [("order", "number.sideways")],
        [("order", "")],
        [("limit", "-1")],
        [("offset", "ten")],
        [("select", "id,order_items(id")],
        [("or", "status.eq.new")],
        [("or", "(status)")],
        [("number", 'in.("unterminated)')],
    ],
)
def test_malformed_parameters_are_pgrst100(params: list[tuple[str, str]]) -> None:
    err = fails("PGRST100", params=params)
    assert err.status == 400 and err.body["message"].startswith("failed to parse")


def test_unknown_operator_lists_the_supported_ones() -> None:
    err = fails("PGRST100", params=[("status", "like.new")])
    assert "eq, neq, gt, gte, lt, lte, ilike, in, is" in err.body["details"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([("id", "eq.abc")], 'invalid input syntax for type uuid: "abc"'),
        ([("guests", "gt.many")], 'invalid input syntax for type integer: "many"'),
        ([("version", "eq.1.5")], 'invalid input syntax for type bigint: "1.5"'),
        ([("created_at", "gt.yesterday")], 'invalid input syntax for type timestamp with time zone: "yesterday"'),
        ([("id", "in.(abc)")], 'invalid input syntax for type uuid: "abc"'),
    ],
)
def test_bad_typed_values_are_22p02(params: list[tuple[str, str]], message: str) -> None:
    err = fails("22P02", params=params)
    assert err.status == 400 and err.body["message"] == message


def test_bad_boolean_is_22p02() -> None:
    err = fails("22P02", table="order_items", params=[("held", "eq.maybe")])
    assert err.body["message"] == 'invalid input syntax for type boolean: "maybe"'


def test_out_of_range_integer_is_22003() -> None:
    err = fails("22003", params=[("guests", "eq.99999999999")])
    assert err.body["message"] == 'value "99999999999" is out of range for type integer'


def test_is_true_on_a_text_column_is_42804() -> None:
    fails("42804", params=[("notes", "is.true")])


def test_json_columns_only_take_is_null() -> None:
    fails("42883", table="order_items", params=[("modifiers", "eq.x")])
    (condition,) = parse_query("order_items", [("modifiers", "is.null")]).conditions
    assert condition.value is None


def test_unknown_relationship_is_pgrst200() -> None:
    err = fails("PGRST200", params=[("select", "*,customers(*)")])
    assert err.body["message"] == "Could not find a relationship between 'orders' and 'customers' in the schema cache"
    fails("PGRST200", table="menu_availability", params=[("select", "*,orders(*)")])


def test_filter_on_a_relationship_not_embedded_is_pgrst108() -> None:
    fails("PGRST108", params=[("order_items.station", "eq.grill")])


@pytest.mark.parametrize("select", ["id::text", "*,order_items(*,orders(*))", "...order_items(*)", "notes->a"])
def test_unsupported_select_features_say_so(select: str) -> None:
    err = fails("PGRST127", params=[("select", select)])
    assert err.body["message"] == "Feature not implemented"


def test_columns_parameter_of_bulk_inserts() -> None:
    assert parse_columns("orders", '"number","notes"') == ("number", "notes")
    with pytest.raises(ApiError) as info:
        parse_columns("orders", '"number","colour"')
    assert info.value.body["code"] == "PGRST204"
    assert info.value.body["message"] == "Could not find the 'colour' column of 'orders' in the schema cache"


def test_limits_that_no_backend_could_take_are_refused_here() -> None:
    fails("PGRST100", params=[("limit", "9" * 19)])
    assert q(limit="9" * 18).limit == int("9" * 18)
    err = fails("54000", params=[("number", "in.(" + ",".join(["x"] * 1001) + ")")])
    assert "1001" in err.body["message"]
    assert len(q(number="in.(" + ",".join(["x"] * 1000) + ")").conditions[0].value) == 1000


def test_timestamp_without_a_utc_instant_is_22008_and_nul_in_text_is_22021() -> None:
    fails("22008", params=[("created_at", "gt.0001-01-01T00:00:00+01:00")])
    fails("22021", params=[("number", "eq.A\x001")])
