# %% [markdown]
# # 5. Incident post-mortem
#
# Something happened in the cluster and you hold the alerts. The questions: **what**
# happened, in **what order**, on **which pods**, **starting where**, and is it **still
# going on**? Falco gives a flat list of alerts; this notebook turns it into a timeline,
# process trees, a per-pod story, a MITRE ATT&CK view and a list of findings, and writes
# them into one self-contained HTML report you can hand over.
#
# In simulate mode the alerts come from a simulated incident hidden in ordinary background
# activity; what the rules caught of it is summarised below from the alerts themselves (the
# page never claims a step the rules did not detect). Point `events_path` at an export to
# analyse a real incident.

# %% tags=["parameters"]
mode = "simulate"  # "simulate" or "cluster"
upstream_rules_dir = ""  # simulate: directory with upstream rulesets; empty: the usual places
use_upstream_rules = True  # simulate: False loads the project's own rules alone
events_path = ""  # Falco JSON lines, sidekick export or Parquet; empty: simulate (cluster mode: the UI)
since = ""  # start of the window: ISO 8601 time (UTC) or a duration back from the last alert (2h)
until = ""  # end of the window (ISO 8601, UTC); empty: up to the last alert
namespace = ""  # only this namespace; empty: all
pod = ""  # only this pod; empty: all
out_dir = "../build"  # report.html is written here
seed = 5  # simulate: seed
nodes = 3  # simulate: worker nodes
hours = 3.0  # simulate: hours of background activity around the incident
capture_path = None  # a .scap capture of the incident (Falco's capture output, sysdig -w): what each process did

# %%
from pathlib import Path

from falco_lab.analysis import filter_alerts
from falco_lab.events import load_events, load_report
from falco_lab.lab import nb
from falco_lab.lab.nb import rules_choice

nb.setup(mode)
if events_path:
    alerts = load_events(events_path)
    print(load_report(alerts).summary())
elif mode == "simulate":
    from falco_lab.simulate import simulate

    choice = rules_choice(upstream_rules_dir, use_upstream_rules)
    print("Rules:", choice.description)
    incident = simulate("incident", nodes=nodes, hours=hours, seed=seed, rules=choice.paths)
    alerts = incident.frame()
    truth = "; ".join(f"{i['name']} at {i['at']}" for i in incident.incidents)
    print(f"The simulation injected: {truth}. (In a real incident nobody tells you: find it below.)")
else:
    from falco_lab.lab import connect

    cluster = connect(mode)  # a missing kubeconfig or context is one clear message
    print(f"kube context: {cluster.context} (read only: this notebook changes nothing in the cluster)")
    alerts = cluster.sidekick_events()
filters = {"since": since, "until": until, "namespace": namespace, "pod": pod}
window = filter_alerts(alerts, **{k: v or None for k, v in filters.items()})
where = events_path or ("a simulated incident" if mode == "simulate" else "the falcosidekick UI")
applied = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "none"
print(f"{len(window)} of {len(alerts)} alerts from {where} in the window (filters: {applied})")
nb.record("incident_alerts", len(window))
nb.record("alerts_total", len(alerts))

# %% [markdown]
# ## What the rules caught
#
# The alerts grouped into **attack chains**, one per pod: routine alerts (the same rule again
# and again in one workload, like a probe) are set aside, the rest are ordered by ATT&CK
# tactic from the first suspicious alert (**patient zero**) on, and scored by severity,
# rarity, tactic progression and recency. The summary below is written from the chains found
# in this data.

# %%
from html import escape

from IPython.display import HTML

from falco_lab.analysis.chains import attack_chains

chains = attack_chains(window, top=3)
nb.record("chains", [chain.where for chain in chains])
if not chains:
    summary_html = "<p>No suspicious activity: every alert in the window is routine.</p>"
else:
    lead = chains[0]
    pz = lead.patient_zero
    steps = "".join(
        f"<li><b>{escape(step.tactic)}</b> from {step.first_seen:%H:%M:%S}Z: "
        f"{escape(', '.join(step.rules))} ({step.alerts} alert{'s' if step.alerts != 1 else ''})</li>"
        for step in lead.steps
    )
    others = "".join(f"<li>{escape(chain.summary())}</li>" for chain in chains[1:])
    summary_html = (
        f"<p>The most suspicious pod is <b>{escape(lead.where)}</b> ({lead.alerts} suspicious alerts, "
        f"worst priority {escape(lead.max_priority)}). Patient zero: <code>{escape(str(pz['rule']))}</code> at "
        f"{pz['time']:%Y-%m-%d %H:%M:%S}Z, process <code>{escape(str(pz['process'] or '?'))}</code> "
        f"(<code>{escape(str(pz['cmdline'] or 'no command line'))}</code>). The rules then saw:</p><ol>{steps}</ol>"
        + (f"<p>Other pods with suspicious alerts:</p><ul>{others}</ul>" if others else "")
    )
HTML(summary_html)

# %% [markdown]
# ## Timeline
#
# One lane per pod, coloured by priority. Hover over a marker for the alert's details, drag
# the range slider to zoom. Look for the lane where the high-priority alerts begin: that is
# usually where the attacker came in. The lanes of benign noise look regular.

# %%
from falco_lab.analysis import timeline_figure

timeline_figure(window, group_by="pod")

# %% [markdown]
# ## Findings
#
# The notable things, most severe first, each with where it happened and the evidence.

# %%
from falco_lab.analysis import find_findings

findings = find_findings(window)
for finding in findings:
    print(f"- {finding}")
nb.record("findings", [str(f) for f in findings])

# %% [markdown]
# ## Drill-down: namespace, pod, container, process
#
# Where the alerts are, level by level. Then the story of the pod at the top of the
# findings: first and last alert, the rules it triggered, the commands, files and
# connections that appear in its alerts, and how long it has been quiet.

# %%
from falco_lab.analysis import drilldown_table, pod_stories

drilldown_table(window, depth="pod").head(15)

# %%
stories = pod_stories(window, top=1)
print(stories[0].to_text() if stories else "no pod in the window")
nb.record("story_pod", f"{stories[0].namespace}/{stories[0].pod}" if stories else None)

# %% [markdown]
# ## Process lineage
#
# Which process started which, rebuilt from the alerts' process fields (`proc.pid`,
# `proc.ppid`, and the ancestors `proc.aname[N]` / `proc.apid[N]`). Processes are keyed by
# container and first sighting, so a reused PID is not mistaken for the same process.
# First as text for the pod above, then for the whole window as an interactive tree
# (click a box to zoom in).

# %%
from falco_lab.analysis import build_process_tree, tree_figure, tree_to_text

pod_alerts = filter_alerts(window, namespace=stories[0].namespace, pod=stories[0].pod) if stories else window
print(tree_to_text(build_process_tree(pod_alerts), max_nodes=60))

# %%
tree = build_process_tree(window)
nb.record("lineage_processes", len(tree))
tree_figure(tree, max_nodes=120)

# %% [markdown]
# ## What the processes did (from a capture)
#
# Alerts say what a rule matched; a syscall capture (`.scap`, written by Falco's `capture`
# output or `sysdig -w`) holds everything the process did. Set `capture_path` to a capture of
# the incident and this cell lists, for each alerting process (matched by host, container, pid
# and time), the files it opened, its connections and the processes it started, from 30 s
# before to 60 s after each alert. The report below gets the same section.

# %%
from IPython.display import display

from falco_lab.analysis.capture_activity import activity_rows, capture_activity

capture_events = None
if capture_path:
    from falco_lab.capture import load_capture

    capture_events = load_capture(capture_path)
    did = capture_activity(window, capture_events)
    print(f"{len(capture_events):,} events in {capture_path}: {len(did.processes)} alerting process(es) found, "
          f"{did.unmatched} alert(s) not in the capture ({did.other_host} on another host name)")
    nb.record("capture_processes", len(did.processes))
    if did.processes:
        display(nb.table(activity_rows(did)))
else:
    print("No capture given (capture_path = None): set it to a .scap file of the incident to see "
          "what each alerting process did.")

# %% [markdown]
# ## MITRE ATT&CK
#
# The alerts by tactic and technique: the attacker's path reads left to right.

# %%
from falco_lab.analysis import matrix_figure

matrix_figure(window)

# %% [markdown]
# ## Blind spots: when Falco itself dropped events
#
# When the kernel produces events faster than Falco reads them, Falco drops some and says so
# with an alert of its own (`Falco internal: syscall event drop`, source `internal`, with
# counters such as `n_drops`). An attack step inside such a window may have left no alert:
# absence of evidence there proves nothing. The windows per node (none is the good answer):

# %%
from IPython.display import display

from falco_lab.analysis.activity import blind_spots

gaps = blind_spots(window)
nb.record("blind_spots", len(gaps))
if gaps.empty:
    print("no Falco health alert in this data: no known blind spot")
else:
    display(nb.table(gaps))

# %% [markdown]
# ## Case work: mark what you looked at
#
# As you go through the alerts, write your verdicts down: an **alert** (by its `uuid`), an
# **attack chain** (`chain:<namespace>/<pod>`) or a **finding** (`finding:<id>`, shown next to each
# finding in the report) is `triaged`, a `false_positive` or `confirmed`, with a note saying why.
# `mark(...)` keeps the marks in a small JSON file next to the events, `<events>.triage.json`;
# `falco-lab report` reads that file by itself (or `--triage FILE`). The report lists the marks
# under "Case notes", labels what they mark, and sets false positives aside from the attack
# chains, with a note saying so: nothing is dropped silently.
#
# Below, as a responder would, we confirm the leading chain (the attack) and mark one alert as
# a false positive: one outside the attack if there is any (a routine one first, such as a health
# probe), else, as an exercise, the least severe alert of the chain, to see how the report sets
# it aside from the chain and says so. This notebook writes its marks to `case.triage.json` in
# `out_dir` (a fresh case each run) and adds the marks already next to `events_path`, if any.

# %%
from falco_lab.analysis.chains import routine_mask
from falco_lab.analysis.fields import column
from falco_lab.analysis.triage import apply_triage, chain_id, load_triage, mark, triage_path

case_file = Path(out_dir) / "case.triage.json"
case_file.unlink(missing_ok=True)  # the notebook's own demo case starts empty each run
lead_pod = chains[0].where.partition("/")[2] if chains else None
outside = column(window, "k8s.pod.name").ne(lead_pod).fillna(True).to_numpy()  # host alerts too
routine = routine_mask(window).to_numpy()
if (outside & routine).any():
    candidates, why = window[outside & routine], "routine: the same rule again and again in one workload"
elif outside.any():
    candidates, why = window[outside], "reviewed: expected behaviour of this workload"
else:  # every alert is in the leading chain: the exercise marks its least severe, latest alert
    candidates = window.sort_values(["priority", "time"], ascending=[True, False], kind="stable")
    why = "exercise: marked false positive to see the chain without it"
if chains:
    mark(events_path or "simulated", chain_id(chains[0].where), "confirmed",
         "patient zero and the steps after it reviewed: this is the attack; escalate", who="workshop",
         triage_file=case_file)
if len(candidates):
    first = candidates.iloc[0]
    mark(events_path or "simulated", str(first["uuid"]), "false_positive", f"{first['rule']}: {why}",
         who="workshop", triage_file=case_file)
existing = triage_path(events_path) if events_path else None
marks = (load_triage(existing) if existing is not None and existing.exists() else []) + (
    load_triage(case_file) if case_file.exists() else [])
marked = apply_triage(window, marks)
false_positive = marked["triage"].eq("false_positive").fillna(False).to_numpy()
after = attack_chains(window[~false_positive], top=3)
print(f"{len(marks)} mark(s); {int(false_positive.sum())} alert(s) marked false positive")
print("chains before:", [f"{c.where} ({c.alerts} alerts)" for c in chains])
print("chains after: ", [f"{c.where} ({c.alerts} alerts)" for c in after])
nb.record("triage_marks", len(marks))
nb.record("false_positives", int(false_positive.sum()))
nb.table(marked[marked["triage"].notna()], ["time", "rule", "k8s.pod.name", "triage", "triage_note"])

# %% [markdown]
# ## The report
#
# One HTML file with the summary, the timeline, the lineage, the ATT&CK view, the findings,
# the case notes and the alerts table (each alert's JSON one click away; a filter box over the
# tables). plotly is embedded, so it works offline, and every string that came
# from an event is escaped. Open it in a browser, or attach it to the incident ticket.

# %%
from falco_lab.analysis import write_report

Path(out_dir).mkdir(parents=True, exist_ok=True)
report = write_report(window, Path(out_dir) / "report.html",
                      filters={k: v for k, v in filters.items() if v}, group_by="pod", triage=marks,
                      capture=capture_events)
print(f"report written: {report} ({report.stat().st_size / 1024:.0f} kB)")
nb.record("report_path", str(report.resolve()))

# %% [markdown]
# ## What next
#
# * Try: narrow the window with `since` / `until`, or set `pod` to the pod of the first
#   high-priority alert, and run the notebook again.
# * Try: in notebook 2's what-if, test an exception for the noisiest benign rule you see here.
* Syscall drops: when Falco cannot keep up it says so with `Falco internal: syscall event drop`
  alerts (rule `Falco internal: syscall event drop`, source `internal`); the report lists them
  as blind spots, windows in which an attack step may have gone unseen. Look for them first in
  a real incident: `alerts[alerts["rule"].str.startswith("Falco internal")]`.
