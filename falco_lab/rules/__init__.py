"""falco_lab.rules: a Python implementation of Falco's rules language.

Load and validate rules files like Falco (:func:`load_rules`, :func:`load_rules_text`), compile
conditions (:func:`compile_condition`), decide which rules fire for events (:class:`RuleSet`),
explain decisions, and format alerts exactly as Falco 0.44 prints them.
"""

from falco_lab.errors import FalcoLabError
from falco_lab.rules.ast import to_text
from falco_lab.rules.compiler import Condition, compile_ast, compile_condition, expand_macros
from falco_lab.rules.errors import Issue, Position, RuleError
from falco_lab.rules.fetch import fetch_rules, find_upstream_rules
from falco_lab.rules.lists import quote_item, substitute_lists
from falco_lab.rules.loader import DEFAULT_ENGINE_VERSION, DEFAULT_PLUGINS, load_rules, load_rules_text
from falco_lab.rules.model import CompiledRule, RulesFile
from falco_lab.rules.output import OutputFormat, alert_json, compile_output, falco_alert, sidekick_enrich
from falco_lab.rules.parser import parse
from falco_lab.rules.result import LoadIssue, LoadResult, LoadResults
from falco_lab.rules.ruleset import RuleSet, alerts_frame

__all__ = [
    "DEFAULT_ENGINE_VERSION",
    "DEFAULT_PLUGINS",
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
    "to_text",
]
