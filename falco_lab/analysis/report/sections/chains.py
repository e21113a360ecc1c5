"""Attack chains per workload, patient zero first: the top of the report."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.chains import attack_chains, routine_mask
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import fmt_time, html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.priorities import PRIORITY_COLORS


def _chains(df: pd.DataFrame, options: ReportOptions) -> str:
    caps = options.caps
    chains = attack_chains(df, options.schema, top=caps.chains, max_evidence=caps.chain_evidence)
    routine = int(routine_mask(df, options.schema).sum())
    noise = (
        f'<p class="note">{routine:,} routine alert{"s" if routine != 1 else ""} (a rule recurring in one '
        'workload: probes, CronJob runs) are set aside; see <a href="#noise">Noise</a>.</p>'
        if routine
        else ""
    )
    if not chains:
        return "<p>No suspicious activity outside routine alerts.</p>" + noise
    blocks = []
    for rank, chain in enumerate(chains, 1):
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
            f"{esc(chain.max_priority)}</span></h3>"
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
    return "".join(blocks) + tail + noise


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
    ctx.page.add(section("chains", "Attack chains", _chains(ctx.df, ctx.options)))


SECTION = Section("chains", "Attack chains", _render)
