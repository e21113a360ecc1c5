"""Attack chains per workload, patient zero first: the top of the report."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.chains import AttackChain, ChainList, attack_chains, routine_mask
from falco_lab.analysis.fields import column
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import fmt_time, html_table, mark_label, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.triage import Mark, chain_id, effective_marks
from falco_lab.priorities import PRIORITY_COLORS


def _set_aside(df: pd.DataFrame, options: ReportOptions, cache: dict[str, object]) -> tuple[ChainList, str]:
    """The top chains without false positives, and the note saying what was set aside."""
    caps = options.caps
    marks = effective_marks(options.triage)
    false_alerts = {t for t, m in marks.items() if m.kind == "alert" and m.status == "false_positive"}
    false_ids = {t for t, m in marks.items() if m.kind == "chain" and m.status == "false_positive"}
    aside = column(df, "uuid").isin(false_alerts).fillna(False).astype(bool)
    # enough chains that the cap is still filled once the false-positive chains are removed
    found = attack_chains(
        df[~aside.to_numpy()],
        options.schema,
        top=caps.chains + len(false_ids),
        max_evidence=caps.chain_evidence,
    )
    cache["chain_targets"] = {chain_id(c.where) for c in found}
    if not aside.any():
        cache["chains"] = found  # the chains of the whole frame: the findings reuse them
    false_chains = [c for c in found if _status(marks, c) == "false_positive"]
    chains = ChainList(c for c in found if _status(marks, c) != "false_positive")
    chains.total = found.total - len(false_chains)
    if not int(aside.sum()) and not false_chains:
        return chains, ""
    listed = "".join(
        f"<li><code>{esc(chain_id(c.where))}</code> ({c.alerts:,} alerts): "
        f"{esc(shorten(marks[chain_id(c.where)].note, 300))}</li>"
        for c in false_chains[: caps.chains]
    )
    more = more_note(len(false_chains), caps.chains, "chains")
    more_item = f"<li>{esc(more)}</li>" if more else ""
    return chains, (
        f'<div class="note"><b>Set aside as false positives</b> (see <a href="#case-notes">Case notes</a>): '
        f"{int(aside.sum()):,} alert{'s' if int(aside.sum()) != 1 else ''} marked false positive left out of "
        f"the chains; {len(false_chains):,} chain{'s' if len(false_chains) != 1 else ''} marked false positive"
        + (f":<ul>{listed}{more_item}</ul>" if false_chains else ".")
        + "</div>"
    )


def _status(marks: Mapping[str, Mark], chain: AttackChain) -> str | None:
    found = marks.get(chain_id(chain.where))
    return found.status if found is not None else None


def _chains(df: pd.DataFrame, options: ReportOptions, cache: dict[str, object] | None = None) -> str:
    caps = options.caps
    chains, aside = _set_aside(df, options, {} if cache is None else cache)
    marks = effective_marks(options.triage)
    routine = int(routine_mask(df, options.schema).sum())
    noise = (
        f'<p class="note">{routine:,} routine alert{"s" if routine != 1 else ""} (a rule recurring in one '
        'workload: probes, CronJob runs) are set aside; see <a href="#noise">Noise</a>.</p>'
        if routine
        else ""
    )
    if not chains:
        return aside + "<p>No suspicious activity outside routine alerts.</p>" + noise
    blocks = []
    for rank, chain in enumerate(chains[: caps.chains], 1):
        pz = chain.patient_zero
        steps = "".join(
            f"<li><b>{esc(step.tactic)}</b> from {esc(fmt_time(step.first_seen))}: "
            f"{esc(', '.join(step.rules))} ({step.alerts:,} alert{'s' if step.alerts != 1 else ''})"
            + html_table(
                step.evidence, ["time", "rule", "priority", "process", "cmdline", "target"], cls="evidence"
            )
            + _note(more_note(step.alerts, len(step.evidence), "alerts of this step"))
            + "</li>"
            for step in chain.steps
        )
        parts = ", ".join(f"{esc(k)} {v:.2f}" for k, v in chain.parts.items())
        blocks.append(
            f'<div class="chain"><h3>{rank}. {esc(chain.where)} '
            f'<span class="prio" style="background:{PRIORITY_COLORS.get(chain.max_priority, "#ddd")}">'
            f"{esc(chain.max_priority)}</span>{mark_label(marks.get(chain_id(chain.where)))} "
            f'<code class="id">{esc(chain_id(chain.where))}</code></h3>'
            f"<p>Workload <code>{esc(chain.workload)}</code> on {esc(', '.join(chain.nodes) or 'an unknown node')}; "
            f"{chain.alerts:,} suspicious alert{'s' if chain.alerts != 1 else ''}, "
            f"{len(chain.tactics)} ATT&amp;CK tactic{'s' if len(chain.tactics) != 1 else ''}; "
            f"score {chain.score:.2f} ({parts}).</p>"
            f"<p><b>Patient zero</b>: {esc(fmt_time(pz['time']))} <b>{esc(pz['rule'])}</b> "
            f"by <code>{esc(pz['process'] or '?')}</code> (pid {esc(pz['pid'] or '?')}, "
            f"user {esc(pz['user'] or '?')}): <code>{esc(shorten(str(pz['cmdline'] or ''), 300))}</code></p>"
            + _opened_by(chain.opened_by)
            + f'<ol class="steps">{steps}</ol></div>'
        )
    tail = _note(more_note(chains.total, caps.chains, "pods with suspicious alerts"))
    return aside + "".join(blocks) + tail + noise


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>' if text else ""


def _opened_by(link: Mapping[str, object] | None) -> str:
    if not link:
        return ""
    command = f": <code>{esc(shorten(str(link['command']), 200))}</code>" if link.get("command") else ""
    return (
        f"<p><b>Opened by</b> <code>{esc(link['user'] or '?')}</code> — audited exec at "
        f"{esc(fmt_time(link['exec_time']))}{command}</p>"
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("chains", "Attack chains", _chains(ctx.df, ctx.options, ctx.cache)))


SECTION = Section("chains", "Attack chains", _render)
