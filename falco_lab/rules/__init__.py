"""falco_lab.rules: a Python implementation of Falco's rules language.

Load and validate rules files like Falco (:func:`load_rules`, :func:`load_rules_text`), compile
conditions (:func:`compile_condition`), decide which rules fire for events (:class:`RuleSet`),
explain decisions, and format alerts exactly as Falco 0.44 prints them.

The engine follows Falco's own seams (lowest first; a module imports only from the ones before it):

- ``codes``, ``errors``: the ``LOAD_*`` codes (:class:`Code`) and the error types;
- ``fields``, ``transformers``, ``operators``: the vocabulary (field catalogue, field transformers,
  the operators table);
- ``frontend``: ``syntax`` (the tree), ``parser``, ``lists`` (list substitution and escaping);
- ``ir``: the compiled form; ``resolvers``: macros, event types, warnings;
- ``evaluators``: ``values`` (conversion), ``event`` (per event), ``frame`` (vectorised), ``explain``;
- ``compiler``: ``constants``, ``checks``, ``condition`` (the :class:`Condition` facade), ``compile``;
- ``output``: ``format`` (output formats and Falco's JSON alert, per alert: the reference),
  ``columns`` (the same, column-wise over a rule's matched rows), ``events_frame`` (the canonical
  events frame built from those columns);
- ``loading``: ``yamlio``, ``schema``, ``model``, ``rule_exceptions``, ``collector``, ``reader``,
  ``result``, then (above :mod:`~falco_lab.rules.ruleset`) ``loader``;
- ``ruleset``, ``cli``, ``fetch``.
"""

from falco_lab.errors import FalcoLabError
from falco_lab.rules.codes import Code
from falco_lab.rules.compiler.compile import compile_ast, compile_condition
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.errors import Issue, Position, RuleError
from falco_lab.rules.fetch import fetch_rules, find_upstream_rules
from falco_lab.rules.frontend.lists import quote_item, substitute_lists
from falco_lab.rules.frontend.parser import parse
from falco_lab.rules.frontend.syntax import to_filter_text, to_text
from falco_lab.rules.loading.loader import (
    DEFAULT_ENGINE_VERSION,
    DEFAULT_PLUGINS,
    load_rules,
    load_rules_text,
)
from falco_lab.rules.loading.model import CompiledRule, RulesFile
from falco_lab.rules.loading.result import LoadIssue, LoadResult, LoadResults
from falco_lab.rules.output.format import (
    OutputFormat,
    alert_json,
    compile_output,
    falco_alert,
    sidekick_enrich,
)
from falco_lab.rules.resolvers.macros import expand_macros
from falco_lab.rules.ruleset import RuleSet, alerts_frame

__all__ = [
    "DEFAULT_ENGINE_VERSION",
    "DEFAULT_PLUGINS",
    "Code",
    "CompiledRule",
    "Condition",
    "FalcoLabError",
    "Issue",
    "LoadIssue",
    "LoadResult",
    "LoadResults",
    "OutputFormat",
    "Position",
    "RuleError",
    "RuleSet",
    "RulesFile",
    "alert_json",
    "alerts_frame",
    "compile_ast",
    "compile_condition",
    "compile_output",
    "expand_macros",
    "falco_alert",
    "fetch_rules",
    "find_upstream_rules",
    "load_rules",
    "load_rules_text",
    "parse",
    "quote_item",
    "sidekick_enrich",
    "substitute_lists",
    "to_filter_text",
    "to_text",
]
