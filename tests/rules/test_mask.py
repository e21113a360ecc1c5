"""Vectorised evaluation: ``Condition.mask(df)`` agrees exactly with per-event ``matches``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from falco_lab.rules.compiler.compile import compile_condition
from falco_lab.rules.errors import RuleError
from falco_lab.rules.evaluators.frame import FrameCache


def per_row(condition, df: pd.DataFrame) -> list[bool]:
    return [condition.matches(row) for row in df.to_dict("records")]


def test_mask_is_a_boolean_series_on_the_frame_index() -> None:
    df = pd.DataFrame({"proc.name": ["a", "b"]}, index=[10, 20])
    mask = compile_condition("proc.name = a").mask(df)
    assert mask.dtype == bool and list(mask.index) == [10, 20] and mask.tolist() == [True, False]


def test_missing_column_is_missing_values() -> None:
    df = pd.DataFrame({"proc.name": ["a", "b"]})
    assert compile_condition("not proc.pname = x").mask(df).tolist() == [True, True]
    assert compile_condition("proc.pname != x").mask(df).tolist() == [False, False]


def test_na_cells_are_missing_values() -> None:
    df = pd.DataFrame({"proc.pname": ["bash", None, np.nan]})
    assert compile_condition("proc.pname != x").mask(df).tolist() == [True, False, False]


def test_empty_frame() -> None:
    assert compile_condition("proc.name = a").mask(pd.DataFrame({"proc.name": []})).tolist() == []


def test_numeric_column_with_nan() -> None:
    df = pd.DataFrame({"fd.num": [1, None, -1]})
    condition = compile_condition("fd.num >= 0 or fd.num = -1")
    assert condition.mask(df).tolist() == per_row(condition, df) == [True, False, True]


def test_numbers_as_text_column() -> None:
    df = pd.DataFrame({"fd.num": ["1", "x", "-1", None]})
    condition = compile_condition("fd.num < 0")
    assert condition.mask(df).tolist() == per_row(condition, df) == [False, False, True, False]


def test_mixed_type_object_column_agrees() -> None:
    df = pd.DataFrame({"proc.name": pd.Series([1, "1", 1.0, True, None], dtype=object)})
    condition = compile_condition("proc.name = 1")
    assert condition.mask(df).tolist() == per_row(condition, df)


def test_list_field_column() -> None:
    df = pd.DataFrame({"ka.user.groups": [["a", "b"], ["c"], [], None, "(a,c)"]})
    condition = compile_condition("ka.user.groups intersects (a)", source="k8s_audit")
    assert condition.mask(df).tolist() == per_row(condition, df) == [True, False, False, False, True]


def test_field_comparison_column_pairs() -> None:
    df = pd.DataFrame({"proc.name": ["sh", "sh", None], "proc.pname": ["sh", "bash", "sh"]})
    condition = compile_condition("proc.name = val(proc.pname)")
    assert condition.mask(df).tolist() == per_row(condition, df) == [True, False, False]


def test_transformer_column() -> None:
    df = pd.DataFrame({"proc.cmdline": ["dGVzdA==", "!!", None]})
    condition = compile_condition("b64(proc.cmdline) = test or not b64(proc.cmdline) exists")
    assert condition.mask(df).tolist() == per_row(condition, df) == [True, True, True]


def test_multi_value_transformer_column() -> None:
    df = pd.DataFrame({"proc.name": ["a", "a", None], "fd.name": ["b", "c", "b"]})
    condition = compile_condition('concat(proc.name, "-", fd.name) = a-b')
    assert condition.mask(df).tolist() == per_row(condition, df) == [True, False, False]


def test_shared_cache_between_conditions() -> None:
    df = pd.DataFrame({"proc.name": ["a", "b", "c"]})
    cache = FrameCache(df)
    first = compile_condition("proc.name in (a, b)").mask(df, cache)
    second = compile_condition("proc.name in (a, b) and proc.name != a").mask(df, cache)
    assert first.tolist() == [True, True, False] and second.tolist() == [False, True, False]


# ---------------------------------------------------------------- property test

_STRINGS = ["", "a", "b", "ab", "A", "bash", "/a/b", "/a/bc", "é", "10", "9", "a b"]
_FIELDS = {
    # field: (column values, [(operator, value strategy text)])
    "proc.name": "str",
    "proc.pname": "str",
    "fd.name": "str",
    "proc.cmdline": "str",
    "fd.num": "int",
    "evt.num": "uint",
    "evt.is_open_read": "bool",
    "fd.sip": "ip",
    "evt.buffer": "bytes",
    "proc.aname": "ancestors",
}
_STR_OPS = ["=", "==", "!=", "contains", "icontains", "startswith", "endswith", "glob", "iglob", "regex"]
_NUM_OPS = ["=", "!=", "<", "<=", ">", ">="]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def leaf(draw) -> str:
    field = draw(st.sampled_from(sorted(_FIELDS)))
    kind = _FIELDS[field]
    if draw(st.integers(0, 9)) == 0:
        return f"{field} exists"
    if kind in ("str", "ancestors"):
        target = field
        if kind == "str" and draw(st.booleans()):
            target = f"{draw(st.sampled_from(['tolower', 'toupper', 'basename', 'b64']))}({field})"
        choice = draw(st.integers(0, 5))
        if choice == 0:
            values = draw(st.lists(st.sampled_from(_STRINGS), max_size=3))
            return f"{target} {draw(st.sampled_from(['in', 'intersects', 'pmatch']))} ({', '.join(map(_quote, values))})"
        if choice == 1 and kind == "str":
            other = draw(st.sampled_from(["proc.name", "proc.pname", "fd.name"]))
            return f"{target} {draw(st.sampled_from(['=', '!=', 'startswith', 'contains']))} val({other})"
        if choice == 2:
            return f"{target} {draw(st.sampled_from(['<', '>=']))} {draw(st.sampled_from(['10', '9', '0']))}"
        if choice == 3 and kind == "str":
            return f"len({field}) {draw(st.sampled_from(_NUM_OPS))} {draw(st.integers(0, 3))}"
        op = draw(st.sampled_from(_STR_OPS))
        value = draw(st.sampled_from(_STRINGS + ["a*", "*b", "?", "[ab]*", ".*", "a|b"]))
        return f"{target} {op} {_quote(value)}"
    if kind in ("int", "uint"):
        if draw(st.booleans()):
            values = draw(st.lists(st.integers(-2, 3), max_size=3))
            return f"{field} in ({', '.join(map(str, values))})"
        return f"{field} {draw(st.sampled_from(_NUM_OPS))} {draw(st.integers(-2, 3))}"
    if kind == "bool":
        return f"{field} {draw(st.sampled_from(['=', '!=']))} {draw(st.sampled_from(['true', 'false']))}"
    if kind == "ip":
        return f"{field} {draw(st.sampled_from(['=', '!=', 'in']))} {draw(st.sampled_from(['10.0.0.1', '(10.0.0.1, ::1)']))}"
    op = draw(st.sampled_from(["bcontains", "bstartswith"]))
    return f"{field} {op} {draw(st.sampled_from(['61', '6162', '00']))}"


def conditions() -> st.SearchStrategy[str]:
    return st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=6,
    )


_COLUMN_VALUES = {
    "str": st.one_of(st.none(), st.sampled_from(_STRINGS + ["YmFzaA==", "YQ"])),
    "int": st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["2", "-1", "x"])),
    "uint": st.one_of(st.none(), st.integers(0, 3), st.just(2**64 - 1)),
    "bool": st.one_of(st.none(), st.booleans(), st.sampled_from(["true", "false"])),
    "ip": st.one_of(st.none(), st.sampled_from(["10.0.0.1", "10.0.0.2", "::1", "bad"])),
    "bytes": st.one_of(st.none(), st.sampled_from([b"ab", b"", b"\x00a", b"xab"])),
    "ancestors": st.one_of(st.none(), st.lists(st.sampled_from(_STRINGS), max_size=3)),
}


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.integers(1, 12))
    data = {}
    for field, kind in _FIELDS.items():
        if draw(st.integers(0, 5)) == 0:
            continue  # column absent: every value missing
        values = draw(st.lists(_COLUMN_VALUES[kind], min_size=rows, max_size=rows))
        column = pd.Series(values, dtype=object)
        if (
            kind in ("int", "uint")
            and all(isinstance(v, int) or v is None for v in values)
            and draw(st.booleans())
        ):
            column = pd.Series([np.nan if v is None else float(v) for v in values])  # numeric dtype with NaN
        data[field] = column
    return pd.DataFrame(data, index=range(rows))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=conditions(), df=frames())
def test_mask_equals_per_event_matches(text: str, df: pd.DataFrame) -> None:
    try:
        condition = compile_condition(text)
    except RuleError:
        assume(False)
        return
    assert condition.mask(df).tolist() == per_row(condition, df)


_ODD_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**66), 2**66),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["a", "A", "1", "-1", "true", "10.0.0.1", "YQ==", "/a/b", "", "(a,b)"]),
    st.binary(max_size=3),
    st.lists(st.sampled_from(["a", "sshd", "b"]), max_size=2),
)
_ODD_FIELDS = [
    "proc.name",
    "proc.pname",
    "fd.num",
    "evt.num",
    "fd.sip",
    "evt.is_open_read",
    "proc.aname",
    "evt.buffer",
]
_ODD_CONDITIONS = [
    "proc.name = a or proc.name in (1, true) or proc.name startswith A or proc.name = val(proc.pname)",
    "fd.num >= 0 or evt.num = -1 or fd.num in (1, 2) or not fd.num exists",
    "fd.sip = 10.0.0.1 or evt.is_open_read = true or proc.aname = sshd or evt.buffer bcontains 61",
    "tolower(proc.name) = a and not b64(proc.pname) exists or len(proc.name) > 1",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.dictionaries(st.sampled_from(_ODD_FIELDS), st.lists(_ODD_VALUE, min_size=n, max_size=n))
    )
)
def test_mask_agrees_on_arbitrary_column_values(columns: dict) -> None:
    df = (
        pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
        if columns
        else pd.DataFrame(index=range(1))
    )
    for text in _ODD_CONDITIONS:
        condition = compile_condition(text)
        assert condition.mask(df).tolist() == per_row(condition, df), text


def test_later_checks_on_few_rows_agree_with_per_event() -> None:
    names = ["a" if i % 10 == 0 else "b" for i in range(200)]
    files = [f"/etc/f{i}" if i % 3 else f"/tmp/f{i}" for i in range(200)]
    df = pd.DataFrame({"proc.name": names, "fd.name": files})
    cache = FrameCache(df)
    few = compile_condition("proc.name = a and fd.name startswith /etc")  # fd.name needed on 20 rows only
    many = compile_condition("proc.name = b and fd.name startswith /tmp")  # then on 180: whole column
    assert few.mask(df, cache).tolist() == per_row(few, df)
    assert many.mask(df, cache).tolist() == per_row(many, df)
    assert few.mask(df, cache).sum() == 13


def test_mask_accepts_an_iterable_of_events() -> None:
    events = [{"proc.name": "a"}, {"proc.pname": "a"}]
    assert compile_condition("proc.name = a").mask(iter(events)).tolist() == [True, False]
