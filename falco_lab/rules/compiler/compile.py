"""The compiler: an expanded syntax tree → a :class:`~falco_lab.rules.compiler.condition.Condition`.

Pipeline of :func:`compile_condition` (rules-language §5–§6): textual list substitution →
:func:`~falco_lab.rules.frontend.parser.parse` → macro expansion
(:func:`~falco_lab.rules.resolvers.macros.expand_macros`) → :func:`compile_ast`, which resolves
fields against the catalogue, checks operators and types (:mod:`~falco_lab.rules.compiler.checks`),
parses constants (:mod:`~falco_lab.rules.compiler.constants`), collects warnings
(:mod:`~falco_lab.rules.resolvers.warnings`) and event types
(:mod:`~falco_lab.rules.resolvers.evttypes`), and builds the IR (:mod:`falco_lab.rules.ir`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from falco_lab.rules.codes import Code
from falco_lab.rules.compiler.checks import check_event_type_values, check_field_comparison, check_operator
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.compiler.constants import compile_regex, fail, parse_constant
from falco_lab.rules.errors import RuleError
from falco_lab.rules.fields import ANCESTOR_FIELDS, EITHER_SIDE_FIELDS, INT_WIDTHS, FieldInfo, resolve
from falco_lab.rules.frontend import syntax
from falco_lab.rules.frontend.lists import substitute_lists
from falco_lab.rules.frontend.parser import parse
from falco_lab.rules.ir import (
    CAnd,
    CCheck,
    CNode,
    CNot,
    ConstOperand,
    COr,
    FieldOperand,
    ListOperand,
    MultiOperand,
    Operand,
    TransformOperand,
    vtype_of,
)
from falco_lab.rules.resolvers.evttypes import event_types
from falco_lab.rules.resolvers.macros import MacroTexts, expand_macros, parse_cached
from falco_lab.rules.resolvers.warnings import (
    Warning,
    const_warnings,
    field_warnings,
    na_check_warnings,
    regex_warnings,
)
from falco_lab.rules.transformers import SINGLE_ARG, TRANSFORMER_SPECS

__all__ = ["compile_ast", "compile_condition"]


class _Compiler:
    def __init__(self, source: str, extra_fields: Mapping[str, FieldInfo] | None = None) -> None:
        self.source = source
        self.extra = extra_fields
        self.warnings: list[tuple[Code, str]] = []
        self.fields: dict[str, None] = {}

    def warn(self, code: Code, message: str) -> None:
        if (code, message) not in self.warnings:
            self.warnings.append((code, message))

    # operands ------------------------------------------------------------
    def field(self, node: syntax.Field) -> FieldOperand:
        info, arg = resolve(node.name, node.arg, self.source, node.pos, self.extra)
        key = node.name if node.arg is None else f"{node.name}[{node.arg}]"
        self.fields.setdefault(key, None)
        ltype = info.type
        for code, message in field_warnings(info):
            self.warn(code, message)
        constant = "<" if info.name == "evt.dir" else None  # always '<' since Falco 0.42
        return FieldOperand(
            key=key,
            info=info,
            arg=arg,
            ltype=ltype,
            vtype=vtype_of(ltype),
            is_list=info.is_list,
            width=INT_WIDTHS.get(ltype),
            constant=constant,
            any_ancestor=arg is None and info.name in ANCESTOR_FIELDS,
            either_side=info.name in EITHER_SIDE_FIELDS,
        )

    def operand(self, node: syntax.Node) -> Operand:
        if isinstance(node, syntax.Field):
            return self.field(node)
        if isinstance(node, syntax.Transformer):
            return self.transformer(node)
        raise fail("expected a field or a field transformer", getattr(node, "pos", None))

    def transformer(self, node: syntax.Transformer) -> TransformOperand | MultiOperand:
        name = node.name
        if name in ("join", "concat"):
            return self.multi(node)
        if name not in SINGLE_ARG:
            raise fail(f"transformer '{name}' is not supported by falco-lab yet", node.pos)
        if node.arg is not None:
            raise fail(f"transformer '{name}' does not support field arguments", node.pos)
        if len(node.args) != 1 or not isinstance(node.args[0], syntax.Field | syntax.Transformer):
            raise fail(f"transformer '{name}' takes exactly one field argument", node.pos)
        inner = self.operand(node.args[0])
        if isinstance(inner, FieldOperand) and inner.info.has("no_transformer"):
            raise fail(f"field '{inner.info.name}' does not support transformers", node.pos)
        spec = TRANSFORMER_SPECS[name]
        accepted = inner.ltype in spec.input_types or ("*list" in spec.input_types and inner.is_list)
        if not accepted:
            raise fail(f"field type '{inner.ltype}' is not supported by '{name}' transformer", node.pos)
        ltype = spec.result_type or inner.ltype
        is_list = inner.is_list and spec.maps_lists
        return TransformOperand(name, inner, ltype, vtype_of(ltype), is_list, INT_WIDTHS.get(ltype))

    def multi_arg(self, node: syntax.Node) -> Any:
        if isinstance(node, syntax.Value):
            return ConstOperand(node.value)
        if isinstance(node, syntax.TransformerList):
            return ListOperand(tuple(self.multi_arg(i) for i in node.items))
        return self.operand(node)

    def multi(self, node: syntax.Transformer) -> MultiOperand:
        name = node.name
        if node.arg is not None:
            raise fail(f"transformer '{name}' does not support field arguments", node.pos)
        args = tuple(self.multi_arg(a) for a in node.args)
        if name == "join":
            if len(args) != 2:
                raise fail("join() requires exactly 2 arguments: separator and list", node.pos)
            if args[0].is_list:
                raise fail("join() first argument (separator) must be a single value, not a list", node.pos)
            if not args[1].is_list:
                raise fail("join() second argument must be a list", node.pos)
        else:
            if len(args) < 2:
                raise fail("concat() requires at least 2 arguments", node.pos)
            if any(a.ltype != "CHARBUF" or a.is_list for a in args):
                raise fail("concat() arguments must be strings", node.pos)
        return MultiOperand(name, args)

    # checks ---------------------------------------------------------------
    def check(self, node: syntax.Node) -> CNode:
        if isinstance(node, syntax.And):
            return CAnd(node, tuple(self.check(c) for c in node.children))
        if isinstance(node, syntax.Or):
            return COr(node, tuple(self.check(c) for c in node.children))
        if isinstance(node, syntax.Not):
            return CNot(node, self.check(node.child))
        if isinstance(node, syntax.Identifier):
            raise RuleError(Code.ERR_VALIDATE, f"Undefined macro '{node.name}' used in filter.", node.pos)
        if isinstance(node, syntax.UnaryCheck):
            return CCheck(node, self.operand(node.left), "exists")
        if isinstance(node, syntax.BinaryCheck):
            return self.binary(node)
        raise fail(f"unexpected syntax node {type(node).__name__}", getattr(node, "pos", None))

    def binary(self, node: syntax.BinaryCheck) -> CCheck:
        left = self.operand(node.left)
        op = node.op
        check_operator(op, left, node.pos)
        right = node.right
        if isinstance(right, syntax.Val | syntax.Transformer):
            return self.field_comparison(node, left, right)
        if isinstance(right, syntax.ListValue):
            texts = right.values
        elif isinstance(right, syntax.Value):
            texts = (right.value,)
        else:  # pragma: no cover - the parser produces nothing else
            raise fail("unexpected right-hand side", node.pos)
        values = tuple(parse_constant(t, left, op, right.pos) for t in texts)
        if op == "regex":
            for text in texts:
                compile_regex(text, right.pos)
            self.warn_all(regex_warnings(texts))
        check_event_type_values(left, op, texts, right.pos)
        self.warn_all(const_warnings(texts, self._is_field, self._is_transformer))
        if isinstance(left, FieldOperand):
            self.warn_all(na_check_warnings(op, left.info.name, texts))
        return CCheck(node, left, op, node.modifier, values)

    def warn_all(self, warnings: list[Warning]) -> None:
        for code, message in warnings:
            self.warn(code, message)

    def _is_field(self, text: str) -> bool:
        name, _, rest = text.partition("[")
        arg = rest[:-1] if rest else None
        try:
            resolve(name, arg, self.source, None, self.extra)
        except RuleError:
            return False
        return True

    def _is_transformer(self, text: str) -> bool:
        try:
            tree = parse(f"{text} exists")
            if not isinstance(tree, syntax.UnaryCheck):
                return False
            _Compiler(self.source, self.extra).operand(tree.left)
        except RuleError:
            return False
        return True

    def field_comparison(
        self, node: syntax.BinaryCheck, left: Operand, right: syntax.Val | syntax.Transformer
    ) -> CCheck:
        if isinstance(right, syntax.Val):
            if right.arg is not None:
                raise fail("transformer 'val' does not support field arguments", right.pos)
            rhs: Operand = self.field(right.field)
        else:
            rhs = self.transformer(right)
        check_field_comparison(node.op, left, rhs, right.pos)
        return CCheck(node, left, node.op, node.modifier, (), rhs)


def compile_ast(
    node: syntax.Node,
    *,
    source: str = "syscall",
    extra_fields: Mapping[str, FieldInfo] | None = None,
    macro_names: dict[int, str] | None = None,
) -> Condition:
    """Compile an expanded syntax tree against the field catalogue of ``source``.

    ``extra_fields`` (name → :class:`~falco_lab.rules.fields.FieldInfo`) adds fields that are not in
    the shipped catalogue, such as a plugin's fields; they are looked up first. ``macro_names`` is the
    ``names`` mapping filled by :func:`expand_macros` (used by :meth:`Condition.explain`).

    Raises
    ------
    RuleError
        ``LOAD_ERR_COMPILE_CONDITION`` with Falco's message (unknown field, operator not supported
        for the type, invalid number, unknown event type, ...), or ``LOAD_ERR_VALIDATE`` for a macro
        reference left in the tree.
    """
    compiler = _Compiler(source, extra_fields)
    compiled = compiler.check(node)
    return Condition(
        ast=node,
        text=syntax.to_text(node),
        source=source,
        evttypes=event_types(node) if source == "syscall" else None,
        fields=tuple(compiler.fields),
        warnings=tuple(compiler.warnings),
        compiled=compiled,
        macro_names=dict(macro_names or {}),
    )


def compile_condition(
    text: str,
    lists: Mapping[str, Any] | None = None,
    macros: Mapping[str, str | syntax.Node] | None = None,
    *,
    source: str = "syscall",
    extra_fields: Mapping[str, FieldInfo] | None = None,
) -> Condition:
    """Compile condition text the way Falco does: lists as text, parse, expand macros, check.

    Parameters
    ----------
    text
        The condition.
    lists
        List name → items, applied in order to the condition and to the macros' conditions.
    macros
        Macro name → condition text (or an already parsed tree).
    source
        Event source whose fields are valid (``syscall``, ``k8s_audit``).
    extra_fields
        Additional fields (see :func:`compile_ast`).

    Returns
    -------
    Condition

    Raises
    ------
    RuleError
        With Falco's code and message; parse errors carry the position in ``text`` (or in the macro's
        text when the error is inside a macro).

    Examples
    --------
    >>> c = compile_condition("evt.type = execve and proc.name in (shells)", lists={"shells": ["sh", "bash"]})
    >>> c.text
    '(evt.type = execve and proc.name in (sh, bash))'
    >>> c.matches({"evt.type": "execve", "proc.name": "bash"})
    True
    """
    substituted, _ = substitute_lists(text, lists)
    tree = parse_cached(substituted)
    names: dict[int, str] = {}
    if macros:
        tree = expand_macros(tree, MacroTexts(macros, lists), names=names)
    elif syntax.collect_identifiers(tree):
        tree = expand_macros(tree, {})
    return compile_ast(tree, source=source, extra_fields=extra_fields, macro_names=names)
