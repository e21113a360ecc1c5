"""The operators table is the one home of what the engine knows about an operator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from falco_lab.rules import compile_condition
from falco_lab.rules.frontend.parser import OPERATORS as PARSED
from falco_lab.rules.loading.rule_exceptions import LIST_OPERATORS, STRING_OPERATORS
from falco_lab.rules.operators import BY_NAME, OPERATORS, comparable_error


def test_the_parser_reads_exactly_the_tables_operators_in_table_order() -> None:
    assert PARSED == tuple(op.name for op in OPERATORS)
    assert PARSED.index("<=") < PARSED.index("<") and PARSED.index("==") < PARSED.index("=")


def test_rule_exceptions_take_their_operator_sets_from_the_table() -> None:
    assert LIST_OPERATORS == {"in", "intersects", "pmatch"}
    assert STRING_OPERATORS == {op.name for op in OPERATORS if op.syntax == "str"}


def test_type_compatibility_speaks_falcos_texts() -> None:
    assert (
        comparable_error("contains", "UINT64", False)
        == "'contains' operator not supported for numeric filters"
    )
    assert comparable_error("<", "BOOL", False) == "'<' operator not supported for numeric filters"
    assert comparable_error("glob", "IPADDR", False) == (
        "'glob' operator not supported for ip address and network filters"
    )
    assert (
        comparable_error("bcontains", "DYNAMIC", False)
        == "'bcontains' operator not supported for type 'DYNAMIC'"
    )
    assert comparable_error("=", "CHARBUF", True) == "'=' operator not supported list filters"
    assert comparable_error("exists", "CHARBUF", True) is None


def test_a_kernel_agrees_with_the_scalar_compare_of_its_row() -> None:
    uniques = np.array(["/bin/sh", "/usr/bin/sh", "sh", ""], dtype=object)
    for name in ("=", "!=", "startswith", "endswith", "contains", "in"):
        row = BY_NAME[name]
        assert row.str_kernel is not None
        fast = row.str_kernel(uniques, ("/bin",) if name != "in" else ("sh", "/bin/sh"))
        values = ("/bin",) if name != "in" else ("sh", "/bin/sh")
        slow = [any(row.scalar(u, v) for v in values) for u in uniques]
        assert fast is not None and fast.tolist() == slow, name


def test_per_event_and_vectorised_results_agree_for_every_operator_on_strings() -> None:
    events = [{"proc.name": n} for n in ("bash", "BASH", "sh", "ba*", "zsh", None)]
    frame = pd.DataFrame(events)
    for row in OPERATORS:
        if "string" not in row.families:
            continue
        rhs = {"unary": "", "num": "5", "list": "(bash, sh)"}.get(row.syntax, "ba*")
        condition = compile_condition(f"proc.name {row.name} {rhs}".strip())
        assert condition.mask(frame).tolist() == [condition.matches(e) for e in events], row.name
