# %% [markdown]
# # 3. Trigger the three classic tests
#
# Falco is installed (notebook 1) and you know how its rules read (notebook 2). Now do
# three things an attacker might do in a cluster, and watch Falco notice each one:
#
# 1. **a shell in a container**: `kubectl exec` a shell into a running pod, once with a
#    terminal (`-it`) and once without;
# 2. **a pod that mounts the container-runtime socket** from its node (whoever talks to
#    that socket can start any container on the node);
# 3. **a pod that mounts the host's `/etc`** (node configuration and credentials).
#
# The pods are harmless (a sleeping busybox, not privileged, no capabilities, resource
# limits) and live in their own namespace, `falco-lab`. They are deleted at the end of
# the test run **even when a step fails**, and the last cell removes anything left over.
#
# In cluster mode Falco must be installed (notebook 1). In simulate mode this notebook
# starts its own simulated cluster with Falco already installed.

# %% tags=["parameters"]
mode = "simulate"  # "simulate" or "cluster"
upstream_rules_dir = ""  # simulate: directory with upstream rulesets; empty: the usual places
use_upstream_rules = True  # simulate: False loads the project's own rules alone
nodes = 2  # simulate: worker nodes of the simulated cluster
seed = 1  # simulate: seed of the simulated cluster
timeout = 120  # seconds to wait for each test pod to run

# %%
from datetime import datetime, timedelta, timezone

import yaml

from falco_lab.lab import connect, nb
from falco_lab.lab.nb import rules_choice
from falco_lab.workshop import alerts_per_test, pod_manifests, run_workshop_tests

nb.setup(mode)
if mode == "simulate":
    choice = rules_choice(upstream_rules_dir, use_upstream_rules)
    print("Rules the simulated Falco loads:", choice.description)
    cluster = connect(mode, nodes=nodes, seed=seed, rules=choice.paths, falco_installed=True)
else:
    cluster = connect(mode)
print(f"kube context: {cluster.context}")

# %% [markdown]
# ## The test pods
#
# The manifests are built in code (`falco_lab.workshop.manifests`) and are the same in
# both modes. Look at the `volumes` of the second and third pod: a `hostPath` is a
# directory or file of the node itself, inside the pod.

# %%
manifests = pod_manifests()
print(yaml.safe_dump_all(manifests, sort_keys=False))

# %% [markdown]
# ## Run the tests
#
# One row per step. `expected_rules` are the workshop's own rules that should fire for
# that step; `expected_upstream_rules` are Falco's upstream rules that fire too when the
# stable and sandbox rulesets are loaded. The pods are deleted when this cell ends.

# %%
started = datetime.now(timezone.utc) - timedelta(seconds=5)
steps = run_workshop_tests(cluster, timeout=timeout)
steps[["test", "step", "pod", "action", "tty", "ok", "detail", "expected_rules", "expected_upstream_rules"]]

# %% [markdown]
# ## The alerts each test raised
#
# Falco's alerts carry the pod's name and namespace (`k8s.pod.name`, `k8s.ns.name`), so
# every alert can be attributed to the test whose pod raised it. A test counts as
# *detected* when each of its steps raised the workshop rule expected for it. With the
# upstream rulesets loaded, expect Falco's own rules in the list too (`Terminal shell in
# container`, `Launch Sensitive Mount Container`).
#
# In cluster mode the alerts are read from the Falco pods' logs as they are now: if a test
# shows as not detected, wait a few seconds and run this cell again.

# %%
alerts = cluster.falco_alerts(since=started)
per_test = alerts_per_test(steps, alerts)
per_test

# %% tags=["nbval-check-output"]
tests = {
    row.test: {"detected": bool(row.detected), "alerts": int(row.alerts), "rules": list(row.rules)}
    for row in per_test.itertuples()
}
nb.record("tests", tests)
nb.record("test_alerts", int(per_test["alerts"].sum()))
print(f"{sum(t['detected'] for t in tests.values())} of {len(tests)} tests detected")

# %% [markdown]
# The alerts of the test namespace, one row each. The `output` column is the line that
# `kubectl logs` on a Falco pod shows; the other columns are output fields, which the
# analysis notebooks work with.

# %%
columns = ["time", "rule", "priority", "k8s.ns.name", "k8s.pod.name", "proc.cmdline", "output"]
alerts[alerts["k8s.ns.name"] == "falco-lab"][[c for c in columns if c in alerts.columns]]

# %% [markdown]
# ## Clean up
#
# The test pods are already gone; `cleanup()` removes anything else the project
# labelled (for example pods left over from an interrupted earlier run).

# %%
removed = cluster.cleanup()
nb.record("cleanup", removed)
print("removed:", ", ".join(removed) if removed else "nothing left to remove")

# %% [markdown]
# ## What next
#
# * Notebook 4 loads the events as falcosidekick stored them and draws the dashboard.
# * Try: in notebook 2, ask `explain` why `Falco Lab Shell Without Terminal In Container`
#   stays silent for the step with a terminal (an event with `proc.tty` set), and why
#   upstream's `Terminal shell in container` stays silent for the step without one.
