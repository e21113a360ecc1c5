# %% [markdown]
# # 4. Analyse Falco events with pandas and plotly
#
# falcosidekick receives every alert Falco emits, and its web UI stores them. Here you load
# those events into a pandas DataFrame (one row per alert, one column per output field)
# and draw the views of the falcosidekick UI dashboard, and a few more.
#
# In cluster mode the events come from the falcosidekick UI API, through a port-forward
# that the kubernetes client opens (the UI password is read from its Secret and never
# shown). In simulate mode they come from a simulated cluster: a few hours of ordinary
# activity on several nodes with the three workshop tests in the middle, detected by the
# rules engine and forwarded the way falcosidekick forwards them.

# %% tags=["parameters"]
mode = "simulate"  # "simulate" or "cluster"
upstream_rules_dir = ""  # simulate: directory with upstream rulesets; empty: the usual places
use_upstream_rules = True  # simulate: False loads the project's own rules alone
events_path = ""  # load this file instead (Falco JSON lines, sidekick export, Parquet)
since = "24h"  # cluster mode: how far back to read the UI's events
seed = 4  # simulate: seed of the simulated cluster
nodes = 3  # simulate: worker nodes
hours = 2.0  # simulate: hours of activity

# %%
import pandas as pd

from falco_lab.events import charts, load_events, load_report
from falco_lab.lab import nb
from falco_lab.lab.nb import rules_choice

nb.setup(mode)
if events_path:
    events = load_events(events_path)
    print(load_report(events).summary())
elif mode == "simulate":
    from falco_lab.simulate import simulate

    choice = rules_choice(upstream_rules_dir, use_upstream_rules)
    print("Rules:", choice.description)
    events = simulate("workshop", nodes=nodes, hours=hours, seed=seed, rules=choice.paths).frame()
else:
    from falco_lab.lab import connect

    cluster = connect(mode)  # a missing kubeconfig or context is one clear message
    print(f"kube context: {cluster.context} (read only: this notebook changes nothing in the cluster)")
    events = cluster.sidekick_events(since=pd.Timestamp.now(tz="UTC") - pd.Timedelta(since))
where = events_path or ("a simulated cluster" if mode == "simulate" else "the falcosidekick UI")
print(f"{len(events)} events from {where}: {events['rule'].nunique()} rules, "
      f"{events['time'].min():%Y-%m-%d %H:%M} to {events['time'].max():%Y-%m-%d %H:%M} UTC")
nb.record("events_loaded", len(events))

# %% [markdown]
# ## The frame
#
# The first columns are the same for every alert (`time`, `rule`, `priority`, `source`,
# `hostname`, `tags`, `output`, `uuid`); then comes one column per output field, named
# exactly as the field. A field that a rule does not print is missing (`<NA>`) in its rows.
# The frame is wide (one column per field any rule prints), so here is a chosen view of the
# first alerts, with their full text.

# %%
print(f"{len(events.columns)} columns:", ", ".join(events.columns[:12]), "..." if len(events.columns) > 12 else "")
nb.table(events.sort_values("time").head(5), ["time", "rule", "priority", "k8s.ns.name", "k8s.pod.name", "output"])

# %% [markdown]
# ## Dashboard
#
# What fires, how severe, where. Priorities keep Falco's order (Emergency down to Debug)
# and fixed colours, so charts from different runs compare. Hover over a bar for its count.

# %% tags=["nbval-check-output"]
by_priority = charts.counts_by_priority(events)
print(nb.figure_summary(by_priority)["title"])

# %%
by_priority

# %%
charts.counts_by_rule(events)

# %%
charts.timeline_by_priority(events)

# %%
charts.top_namespaces(events)

# %%
charts.top_pods(events)

# %% [markdown]
# Beyond the UI's dashboard: which rules fire at which hour. A rule that fires every hour
# on the hour is usually a job or a probe (noise to tune); one that fires once is worth a look.

# %%
charts.rule_hour_heatmap(events)

# %% [markdown]
# ## The falcosidekick UI, and one event of each test in detail
#
# In cluster mode the next cell opens a port-forward to the falcosidekick UI (through the
# kubernetes client, no `kubectl` needed) and prints its address: open it in a browser and
# log in with the user and password stored in the UI's Secret (the cell names the Secret
# and how to read it; it never prints the password). In simulate mode there is no UI to
# open; the cards below are what its event-detail view shows.
#
# Clicking an event in the UI shows its details. The Kubernetes context of an alert is in
# its output fields: the pod and its namespace (`k8s.pod.name`, `k8s.ns.name`), the command
# line (`proc.cmdline`) and, for the mount rules, what the container had mounted
# (`container.mounts`: `source:destination:mode:...` for each mount). One card per workshop
# test, the first alert raised in its pod: find the shell's command line in the first, the
# runtime socket and the host's `/etc` among the mounts of the others.

# %%
from falco_lab.lab.detail import event_details
from falco_lab.workshop import chart, steps
from falco_lab.workshop.manifests import HOST_ETC_POD, RUNTIME_SOCKET_POD, SHELL_POD

if mode == "cluster" and not events_path:
    ui = cluster.ui_port_forward()
    ui.__enter__()  # stays open while this notebook's kernel runs; ui.__exit__() closes it
    print(f"falcosidekick UI: {ui.url}/")
    print(f"log in with the user:password in Secret {chart.FALCO_NAMESPACE}/{chart.UI_SECRET} "
          f"(key {chart.UI_SECRET_KEY}):\n  kubectl -n {chart.FALCO_NAMESPACE} get secret {chart.UI_SECRET} "
          f"-o jsonpath='{{.data.{chart.UI_SECRET_KEY}}}' | base64 -d")
tests = {"1. shell in a container": SHELL_POD, "2. runtime socket mounted": RUNTIME_SOCKET_POD,
         "3. host /etc mounted": HOST_ETC_POD}
about = {"1. shell in a container": [steps.RULE_SHELL_TTY, steps.RULE_SHELL_NO_TTY, steps.UPSTREAM_TERMINAL_SHELL],
         "2. runtime socket mounted": [steps.RULE_RUNTIME_SOCKET],
         "3. host /etc mounted": [steps.RULE_SENSITIVE_HOST_PATH]}
details = event_details(events, tests, rules=about)
nb.record("event_details", {card.test: {"found": card.found, "pod": card.field("k8s.pod.name"),
                                        "cmdline": card.field("proc.cmdline"),
                                        "mounts": card.field("container.mounts")} for card in details})
details

# %% [markdown]
# ## Tags and MITRE ATT&CK
#
# Falco's rules carry tags: the kind of workload (`container`, `host`), the behaviour
# (`shell`, `mount`), and the MITRE ATT&CK tactic (`mitre_execution`, ...) and technique
# ids (`T1059`, ...) the behaviour belongs to.

# %%
charts.counts_by_tag(events)

# %%
from falco_lab.analysis import matrix_figure, mitre_summary

mitre = mitre_summary(events)
nb.record("mitre_tactics", sorted(mitre["tactic"].dropna().unique().tolist()) if "tactic" in mitre else [])
matrix_figure(events)

# %%
nb.table(mitre)

# %% [markdown]
# ## What next
#
# * Notebook 5 turns the same kind of data into a post-mortem: timeline, process lineage,
#   a per-pod story and an HTML report.
# * Try: filter the frame (`events[events["k8s.ns.name"] == "falco-lab"]`) and redraw a
#   chart, or load your own export with `events_path`.
