"""Vectorised evaluation of compiled conditions over a pandas DataFrame.

Columns are field names as written (``proc.name``, ``proc.aname[2]``, ``evt.arg.flags``); a missing
column or an NA cell is a missing value. The result agrees exactly with
:meth:`falco_lab.rules.compiler.condition.Condition.matches` on every row, because each column is *factorised*
(distinct values + one integer code per row), the distinct values are converted with the per-event
conversion, and every check is decided once per distinct value — with numpy/pandas operations for
the common operators and the per-event semantics for the rare ones — then broadcast back to rows
through the codes. ``and``/``or`` only evaluate later children on the rows still undecided.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from falco_lab.rules.evaluators.event import check_holds, field_rhs_values
from falco_lab.rules.evaluators.values import MISSING, convert, convert_scalar, extract
from falco_lab.rules.ir import (
    CAnd,
    CCheck,
    CNode,
    CNot,
    FieldOperand,
    MultiOperand,
    Operand,
    TransformOperand,
)
from falco_lab.rules.operators import BY_NAME
from falco_lab.rules.transformers import apply_transformer

BoolArray = npt.NDArray[np.bool_]

__all__ = ["ColumnData", "FrameCache", "evaluate_frame"]

_INT64_RANGE = (-(2**63), 2**63 - 1)


class ColumnData:
    """A column factorised: ``codes`` (int64, -1 = missing) and converted distinct ``uniques``.

    ``kind`` tells which fast paths apply: ``"str"`` (all uniques are Python str, in an object array),
    ``"num"`` (a numeric numpy array of int64 or float64) or ``"obj"`` (anything else).
    """

    __slots__ = ("codes", "uniques", "kind")

    def __init__(self, codes: np.ndarray, uniques: Any, kind: str) -> None:
        self.codes = codes
        self.uniques = uniques
        self.kind = kind


def _classify(values: list[Any]) -> tuple[Any, str]:
    if all(type(v) is str for v in values):
        return np.array(values, dtype=object), "str"
    if values and all(type(v) is int for v in values):
        lo, hi = min(values), max(values)
        if _INT64_RANGE[0] <= lo and hi <= _INT64_RANGE[1]:
            return np.array(values, dtype=np.int64), "num"
    if values and all(type(v) is float for v in values):
        return np.array(values, dtype=np.float64), "num"
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr, "obj"


def _from_converted(converted: list[Any]) -> ColumnData:
    """ColumnData from one converted value per row (MISSING allowed); used for the slow paths."""
    n = len(converted)
    codes = np.full(n, -1, dtype=np.int64)
    present = [i for i, v in enumerate(converted) if v is not MISSING]
    hashable = True
    try:
        index: dict[Any, int] = {}
        uniques: list[Any] = []
        for i in present:
            v = converted[i]
            key = (type(v), v)
            code = index.get(key)
            if code is None:
                code = index[key] = len(uniques)
                uniques.append(v)
            codes[i] = code
    except TypeError:  # unhashable (lists): one unique per row
        hashable = False
    if not hashable:
        uniques = [converted[i] for i in present]
        codes[np.array(present, dtype=np.int64)] = np.arange(len(present), dtype=np.int64)
    arr, kind = _classify(uniques)
    return ColumnData(codes, arr, kind)


class FrameCache:
    """Per-frame cache of factorised, converted columns and per-check decisions.

    Share one between several conditions evaluated over the same DataFrame (a ruleset does).
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self._columns: dict[Any, ColumnData] = {}
        self._decisions: dict[Any, np.ndarray] = {}
        self._usage: dict[Any, int] = {}

    # ------------------------------------------------------------------ columns
    def column(self, operand: Operand) -> ColumnData:
        """The whole column, factorised once and cached."""
        data = self._columns.get(operand)
        if data is None:
            data = self._build(operand, None)
            self._columns[operand] = data
        return data

    def rows(self, operand: Operand, idx: np.ndarray | None) -> tuple[ColumnData, bool]:
        """Column data for the rows ``idx`` (all rows if None) and whether it covers the whole column.

        A column needed only for a few rows (the rest were decided by earlier checks) is factorised on
        those rows only; once the rows asked for add up to half the frame, the whole column is
        factorised and cached instead.
        """
        if operand in self._columns or idx is None:
            return self.column(operand), True
        used = self._usage.get(operand, 0) + len(idx)
        self._usage[operand] = used
        if used * 2 > self.n:
            return self.column(operand), True
        return self._build(operand, idx), False

    def _build(self, operand: Operand, idx: np.ndarray | None) -> ColumnData:
        n = self.n if idx is None else len(idx)
        if isinstance(operand, MultiOperand):
            # rare (Falco 0.44 join/concat): built row by row from the rows' events
            frame = self.df if idx is None else self.df.take(idx)
            records = cast("list[dict[str, Any]]", frame.to_dict("records"))  # columns are field names
            return _from_converted([extract(operand, row) for row in records])
        if isinstance(operand, TransformOperand):
            inner = self.column(operand.inner) if idx is None else self._build(operand.inner, idx)
            values = [apply_transformer(operand.name, u, operand.inner.is_list) for u in inner.uniques]
            missing = np.fromiter((v is MISSING for v in values), dtype=bool, count=len(values))
            remap = np.arange(len(values) + 1, dtype=np.int64)
            remap[-1] = -1
            remap[:-1][missing] = -1
            codes = remap[inner.codes]
            kept = [MISSING if m else v for v, m in zip(values, missing, strict=True)]
            arr, kind = _classify([v for v in kept if v is not MISSING])
            if missing.any():
                arr2 = np.empty(len(kept), dtype=object)
                arr2[:] = [v if v is not MISSING else None for v in kept]
                return ColumnData(codes, arr2, "obj")
            return ColumnData(codes, arr, kind)
        if operand.constant is not None:
            return ColumnData(np.zeros(n, dtype=np.int64), np.array([operand.constant], dtype=object), "str")
        if operand.key not in self.df.columns:
            return ColumnData(np.full(n, -1, dtype=np.int64), np.array([], dtype=object), "str")
        series = self.df[operand.key]
        if idx is not None:
            series = series.take(idx)
        if operand.is_list or operand.any_ancestor or operand.either_side:
            return _from_converted([convert(v, operand) for v in series.tolist()])
        dtype = series.dtype
        if dtype is np.dtype(object):
            inferred = pd.api.types.infer_dtype(series, skipna=True)
            if inferred not in ("string", "empty", "integer", "floating", "boolean", "bytes"):
                # mixed Python types: convert row by row so equal-hashing values of different types
                # (1, 1.0, True) are not merged before conversion
                return _from_converted(
                    [convert_scalar(v, operand.vtype, operand.width) for v in series.tolist()]
                )
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        return self._convert_uniques(codes, uniques, operand)

    def _convert_uniques(self, codes: np.ndarray, uniques: Any, operand: FieldOperand) -> ColumnData:
        vtype = operand.vtype
        raw = np.asarray(uniques)
        if vtype == "int" and raw.dtype.kind == "f" and raw.size and bool(np.all(np.mod(raw, 1) == 0)):
            if raw.min() >= _INT64_RANGE[0] and raw.max() < 2.0**63:
                raw = raw.astype(np.int64)
        if vtype == "int" and raw.dtype.kind in "iu" and operand.width is not None:
            bits, signed = operand.width
            lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            if raw.size == 0 or (int(raw.min()) >= lo and int(raw.max()) <= min(hi, _INT64_RANGE[1])):
                return ColumnData(codes, raw.astype(np.int64, copy=False), "num")
        if vtype == "double" and raw.dtype.kind in "iuf":
            return ColumnData(codes, raw.astype(np.float64), "num")
        if vtype == "str" and raw.dtype == object:
            values = raw.tolist()
            if all(type(v) is str for v in values):
                return ColumnData(codes, raw, "str")
        converted = [convert_scalar(v, vtype, operand.width) for v in raw.tolist()]
        missing = [i for i, v in enumerate(converted) if v is MISSING]
        if missing:
            remap = np.arange(len(converted) + 1, dtype=np.int64)
            remap[-1] = -1
            remap[np.array(missing, dtype=np.int64)] = -1
            codes = remap[codes]
        arr, kind = _classify([v if v is not MISSING else None for v in converted])
        if missing and kind != "obj":
            arr = np.array([v if v is not MISSING else None for v in converted], dtype=object)
            kind = "obj"
        return ColumnData(codes, arr, kind)

    # ------------------------------------------------------------------ checks
    def decisions(self, check: CCheck) -> np.ndarray:
        """Boolean per distinct value of the left operand, plus a final False for missing (code -1)."""
        key = (check.left, check.op, check.modifier, check.values)
        cached = self._decisions.get(key)
        if cached is None:
            data = self.column(check.left)
            decided = _decide(check, data)
            cached = np.append(decided, False)
            self._decisions[key] = cached
        return cached

    def check(self, check: CCheck, idx: np.ndarray | None) -> np.ndarray:
        if check.rhs is not None:
            return self._field_comparison(check, idx)
        data, whole = self.rows(check.left, idx)
        if not whole:
            partial: BoolArray = np.append(_decide(check, data), False)[data.codes]
            return partial
        table = self.decisions(check)
        result: BoolArray = table[data.codes if idx is None else data.codes[idx]]
        return result

    def _field_comparison(self, check: CCheck, idx: np.ndarray | None) -> np.ndarray:
        if check.rhs is None:  # pragma: no cover - only called for val() comparisons
            raise TypeError("not a field comparison")
        left, left_whole = self.rows(check.left, idx)
        right, right_whole = self.rows(check.rhs, idx)
        lc = left.codes if idx is None or not left_whole else left.codes[idx]
        rc = right.codes if idx is None or not right_whole else right.codes[idx]
        out = np.zeros(len(lc), dtype=bool)
        both = (lc >= 0) & (rc >= 0)
        if not both.any():
            return out
        pairs = lc[both] * (len(right.uniques) + 1) + rc[both]
        distinct, inverse = np.unique(pairs, return_inverse=True)
        results = np.empty(len(distinct), dtype=bool)
        width = len(right.uniques) + 1
        for k, pair in enumerate(distinct.tolist()):
            lv = left.uniques[pair // width]
            rv = right.uniques[pair % width]
            results[k] = _pair_result(check, _py(lv), _py(rv))
        out[both] = results[inverse]
        return out


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _pair_result(check: CCheck, left: Any, right: Any) -> bool:
    values = field_rhs_values(check, right)
    return values is not None and check_holds(check, left, values)


def _decide(check: CCheck, data: ColumnData) -> BoolArray:
    """The check's result for each distinct value of the column (values all present).

    The operator's vectorised kernel (operators table) when it has one for this column kind and these
    values; otherwise the per-event decision applied to each distinct value.
    """
    uniques = data.uniques
    size = len(uniques)
    if size == 0:
        return np.zeros(0, dtype=bool)
    op, values = check.op, check.values
    row = BY_NAME[op]
    if row.syntax == "unary":
        return np.ones(size, dtype=bool)
    left = check.left
    simple = (
        check.modifier is None
        and not left.is_list
        and not (isinstance(left, FieldOperand) and (left.any_ancestor or left.either_side))
    )
    if simple and data.kind == "str" and row.str_kernel is not None and all(type(v) is str for v in values):
        try:
            fast = row.str_kernel(uniques, values)
        except UnicodeError:  # lone surrogates (undecodable bytes) cannot go through pandas' string code
            fast = None
        if fast is not None:
            return fast
    if (
        simple
        and data.kind == "num"
        and row.num_kernel is not None
        and values
        and all(type(v) in (int, float) for v in values)
    ):
        fast = row.num_kernel(uniques, values)
        if fast is not None:
            return fast
    return np.fromiter(
        (u is not None and check_holds(check, _py(u), values) for u in uniques), dtype=bool, count=size
    )


def _evaluate(node: CNode, idx: np.ndarray | None, cache: FrameCache) -> np.ndarray:
    if isinstance(node, CCheck):
        return cache.check(node, idx)
    if isinstance(node, CNot):
        return ~_evaluate(node.child, idx, cache)
    size = cache.n if idx is None else len(idx)
    is_and = isinstance(node, CAnd)
    # positions (within idx) whose outcome is still open: true so far for 'and', false so far for 'or'
    open_pos: np.ndarray | None = None
    for child in node.children:
        if open_pos is None:
            sub = idx
        else:
            sub = open_pos if idx is None else idx[open_pos]
        result = _evaluate(child, sub, cache)
        keep = result if is_and else ~result
        open_pos = np.flatnonzero(keep) if open_pos is None else open_pos[keep]
        if open_pos.size == 0:
            break
    out = np.zeros(size, dtype=bool) if is_and else np.ones(size, dtype=bool)
    if open_pos is not None and open_pos.size:
        out[open_pos] = is_and
    return out


def evaluate_frame(node: CNode, df: pd.DataFrame, cache: FrameCache | None = None) -> pd.Series:
    """Boolean mask of the rows of ``df`` that satisfy a compiled condition.

    ``df`` may also be an iterable of event mappings; it is turned into a DataFrame first.
    """
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(list(df))
    if cache is None or cache.df is not df:
        cache = FrameCache(df)
    if cache.n == 0:
        return pd.Series(np.zeros(0, dtype=bool), index=df.index, dtype=bool)
    result = _evaluate(node, None, cache)
    return pd.Series(result, index=df.index, dtype=bool)
