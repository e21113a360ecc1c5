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
#
# **Cluster mode changes your cluster**: it creates the namespace `falco-lab` and three pods
# in it, execs two commands into the first, then deletes the pods. Nothing happens while
# `dry_run = True` (the default): the cells then show the manifests and the steps they
# would run. Set `dry_run = False` in the parameters cell when you are ready.

# %% tags=["parameters"]
mode = "simulate"  # "simulate" or "cluster"
upstream_rules_dir = ""  # simulate: directory with upstream rulesets; empty: the usual places
use_upstream_rules = True  # simulate: False loads the project's own rules alone
nodes = 2  # simulate: worker nodes of the simulated cluster
seed = 1  # simulate: seed of the simulated cluster
timeout = 120  # seconds to wait for each test pod to run
dry_run = True  # cluster: True only shows what would be created; False runs the tests

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
    cluster = connect(mode)  # a missing kubeconfig or context is one clear message
print(f"kube context: {cluster.context}")
run_for_real = mode == "simulate" or not dry_run
if not run_for_real:
    print("dry run: nothing will be created; set dry_run = False in the parameters cell to run the tests")

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
if not run_for_real:
    raise SystemExit("dry run: stopping here (the manifests above are what would be created)")
started = datetime.now(timezone.utc) - timedelta(seconds=5)
steps = run_workshop_tests(cluster, timeout=timeout)
nb.table(steps, ["test", "step", "pod", "action", "tty", "ok", "detail", "expected_rules", "expected_upstream_rules"])

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
nb.table(per_test)

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
columns = ["time", "rule", "priority", "k8s.pod.name", "proc.cmdline", "output"]
nb.table(alerts[alerts["k8s.ns.name"] == "falco-lab"], columns)

# %% [markdown]
# ## Unexpected alerts, and why they fired
#
# Missing alerts are one surprise; alerts nobody expected are the other. Here are the rules
# that fired in a test's pod although no step of that test expects them. With the upstream
# sandbox ruleset, `Launch Sensitive Mount Container` fires for every container start,
# the shell pod's included: its condition says `not container.mount.dest[/proc*] in
# ("<NA>", "N/A")`, and a container with no such mount has no value for the field, which
# that test counts as "mounted". The explain tree below shows the deciding line.

# %%
from IPython.display import display

from falco_lab.lab.detail import unexpected_alerts
from falco_lab.rules import load_rules

unexpected = unexpected_alerts(steps, alerts)
nb.record("unexpected", sorted(set(unexpected["rule"])))
if unexpected.empty:
    print("every alert of the test pods was expected")
else:
    display(nb.table(unexpected))
    sandbox = unexpected[unexpected["rule"] == "Launch Sensitive Mount Container"]
    first = (sandbox if len(sandbox) else unexpected).iloc[0]
    alert = alerts[(alerts["rule"] == first["rule"]) & (alerts["k8s.pod.name"] == first["pod"])].iloc[0]
    if mode == "simulate":
        # the simulated Falco keeps the system-call events: explain the one that raised the alert
        syscalls = cluster.syscall_events()
        event = syscalls[syscalls["evt.time"] == int(alert["time"].value)].iloc[0]
        ruleset = load_rules(*choice.paths)
    else:
        # a real cluster's alert carries its output fields only: explain with those (others are missing)
        event = alert
        ruleset = load_rules(*rules_choice("", True).paths)
    fields = {k: v for k, v in event.items() if isinstance(k, str) and "." in k and not nb.is_missing(v)}
    print(ruleset.explain(first["rule"], fields))

# %% [markdown]
# ## Follow the alerts live
#
# `kubectl logs -f` on the Falco pods shows alerts as they happen. `follow_alerts` does the
# same through the kubernetes client, for a bounded time and number of alerts. In cluster
# mode, run it and, in a terminal, `kubectl exec` into any pod of the `falco-lab` namespace
# (or re-run the tests): the alerts appear here within seconds. In simulate mode the cell
# does that itself: it starts the shell test pod again, runs a command in it and deletes it.

# %%
from falco_lab.lab.follow import follow_alerts


def act_while_following(poll: int) -> None:
    """Simulate mode only: something worth an alert, in a test pod that is always removed."""
    if poll != 1:
        return
    shell = cluster.create_pod(manifests[0], timeout=timeout)
    try:
        cluster.exec_in_pod(shell, ["sh", "-c", "id; cat /etc/shadow"], tty=False)
    finally:
        cluster.delete_pod(shell)


if run_for_real:
    seconds = 30 if mode == "cluster" else 3
    print(f"following Falco's alerts for {seconds} s (at most 10 shown)")
    followed = follow_alerts(cluster, seconds=seconds, poll=1, max_alerts=10,
                             between_polls=act_while_following if mode == "simulate" else None)
    nb.record("followed", len(followed))

# %% [markdown]
# ## Clean up
#
# The test pods are already gone; `cleanup()` removes anything else the project
# labelled (for example pods left over from an interrupted earlier run).

# %%
removed = cluster.cleanup() if run_for_real else []
nb.record("cleanup", removed)
print("removed:", ", ".join(removed) if removed else "nothing left to remove")

# %% [markdown]
# ## What next
#
# * Notebook 4 loads the events as falcosidekick stored them and draws the dashboard.
# * Try: in notebook 2, ask `explain` why `Falco Lab Shell Without Terminal In Container`
#   stays silent for the step with a terminal (an event with `proc.tty` set), and why
#   upstream's `Terminal shell in container` stays silent for the step without one.
