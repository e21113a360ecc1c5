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

    cluster = connect(mode)
    print(f"kube context: {cluster.context}")
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

# %%
events.head(3)

# %% [markdown]
# ## Dashboard
#
# What fires, how severe, where. Priorities keep Falco's order (Emergency down to Debug)
# and fixed colours, so charts from different runs compare. Hover over a bar for its count.

# %% tags=["nbval-check-output"]
charts.counts_by_priority(events)

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
# ## One event in detail
#
# The Kubernetes context of an alert is in its output fields: the pod and its namespace
# (`k8s.pod.name`, `k8s.ns.name`), the command line (`proc.cmdline`) and, for the mount
# rules, what the container had mounted (`container.mounts`: `source:destination:mode:...`
# for each mount). Here is an alert of the third workshop test's pod, `falco-lab-host-etc`
# (or the first alert, when there is none): find the host's `/etc` among its mounts.

# %%
from falco_lab.workshop.manifests import HOST_ETC_POD

detail_fields = ["time", "rule", "priority", "hostname", "k8s.pod.name", "k8s.ns.name", "proc.cmdline", "container.mounts"]
host_etc = events[events["k8s.pod.name"] == HOST_ETC_POD] if "k8s.pod.name" in events else events.iloc[0:0]
example = (host_etc if len(host_etc) else events).iloc[0]
for field in detail_fields:
    print(f"{field:<17} {example.get(field, '<not in the output>')}")

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
mitre

# %% [markdown]
# ## What next
#
# * Notebook 5 turns the same kind of data into a post-mortem: timeline, process lineage,
#   a per-pod story and an HTML report.
# * Try: filter the frame (`events[events["k8s.ns.name"] == "falco-lab"]`) and redraw a
#   chart, or load your own export with `events_path`.
