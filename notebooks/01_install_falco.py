# %% [markdown]
# # 1. Install Falco on EKS
#
# In this notebook you check that a cluster is fit for Falco, read the Helm values the
# workshop uses block by block, install Falco with falcosidekick and its web UI, and
# confirm that everything is running.
#
# **Two modes.** With `mode = "simulate"` (the default) nothing leaves your laptop: a
# simulated EKS cluster answers every step, and each output says so. With
# `mode = "cluster"` the same cells talk to the cluster of your current kubeconfig
# context through the official `kubernetes` client and the `helm` CLI. Change the mode
# in the parameters cell below (or run `papermill ... -p mode cluster`).

# %% tags=["parameters"]
mode = "simulate"  # "simulate" (no cluster needed) or "cluster" (your current kube context)
values_path = "../values.yaml"  # the Helm values this workshop installs Falco with
dry_run = True  # cluster mode: print the exact helm command instead of running it
upstream_rules_dir = ""  # simulate: directory with upstream rulesets; empty: the usual places
use_upstream_rules = True  # simulate: False loads the project's own rules alone
nodes = 3  # simulate: worker nodes of the simulated cluster
seed = 1  # simulate: seed of the simulated cluster

# %%
from pathlib import Path

from falco_lab.lab import connect, nb
from falco_lab.lab.nb import rules_choice

nb.setup(mode)
if mode == "simulate":
    choice = rules_choice(upstream_rules_dir, use_upstream_rules)
    print("Rules the simulated Falco loads:", choice.description)
    cluster = connect(mode, nodes=nodes, seed=seed, rules=choice.paths)
else:
    cluster = connect(mode)
print(f"mode: {cluster.mode}   kube context: {cluster.context}")
nb.record("mode", mode)

# %% [markdown]
# ## Preflight
#
# Before installing anything, check what Falco needs from the cluster: the API is
# reachable, each node's kernel can run the modern eBPF probe (Linux 5.8 or newer with
# BTF type information), `helm` is installed, and the `falco` namespace is in a known state.
# Each row is `ok`, `warn` or `fail`; a `fail` tells you what to fix before going on.

# %%
checks = cluster.preflight()
checks

# %% tags=["nbval-check-output"]
failed = checks[checks["status"] == "fail"]
nb.record("preflight", {"checks": len(checks), "failed": int(len(failed))})
print(f"{len(checks)} checks, {len(failed)} failed" + ("" if failed.empty else ": fix those first"))

# %% [markdown]
# ## Why the modern eBPF driver
#
# Falco sees what processes do by reading system calls in the kernel. It can do that with
# a kernel module, or with an eBPF probe. The workshop uses the **modern eBPF** probe:
#
# * it is compiled into the Falco binary and relies on CO-RE ("compile once, run
#   everywhere") with the kernel's BTF information, so no driver has to be downloaded or
#   built for each node's kernel, and no init container does that work;
# * every current EKS AMI (Amazon Linux 2023, Bottlerocket, Amazon Linux 2 with a 5.10
#   kernel) ships a kernel that supports it;
# * it can run with a small set of capabilities instead of a fully privileged container;
# * the legacy eBPF probe is gone from the Falco chart since 9.0 (the chart refuses to
#   render with it), and a kernel module on EKS nodes is the hardest thing to keep working.
#
# The preflight table above shows, for each node, whether its kernel qualifies.

# %% [markdown]
# ## What `values.yaml` configures
#
# The workshop installs Falco with the `falcosecurity/falco` Helm chart and one values file.
# Below, each top-level block is printed from the file itself, with the comments written
# above it: output flushing (`tty`), the driver (`driver`), container and pod metadata
# (`collectors`), which upstream rulesets to install (`falcoctl`), how Falco loads rules and
# writes alerts (`falco`), falcosidekick and its UI (`falcosidekick`), and the workshop's own
# rules (`customRules`, generated from the project's rules files).

# %%
values_text = Path(values_path).read_text(encoding="utf-8")
blocks = nb.yaml_blocks(values_text)
for block in blocks:
    print(f"--- {block.key} (line {block.line}) " + "-" * max(0, 60 - len(block.key)))
    print(block.preview(max_lines=25))
    print()
nb.record("values_blocks", [block.key for block in blocks])

# %% [markdown]
# ## Install
#
# In cluster mode this runs `helm upgrade --install` with the pinned chart version and
# `--wait` (with `dry_run = True` it only prints the command so you can read it first).
# In simulate mode the simulated cluster gets a Falco DaemonSet on each node,
# falcosidekick and the UI, as state.

# %%
simulated_install_always_runs = mode == "simulate"  # nothing real to protect in simulate mode
print(cluster.install_falco(dry_run=dry_run and not simulated_install_always_runs))

# %% [markdown]
# ## Readiness
#
# Falco is ready when its DaemonSet runs on every node, its log shows that the modern
# eBPF engine opened and the rules loaded without errors, and sidekick and the UI answer.
# In cluster mode a dry run installs nothing, so expect rows that are not ready.

# %%
ready = cluster.readiness()
ready

# %% tags=["nbval-check-output"]
all_ready = bool(ready["ready"].all())
nb.record("ready", all_ready)
print("Falco is ready" if all_ready else "not ready yet: see the detail column above")

# %% [markdown]
# ## More outputs, and rule updates
#
# **falcosidekick outputs.** falcosidekick forwards every alert to the UI and, with one more
# block of values, to Slack, a webhook, a SIEM and some 70 other targets, each with its own
# minimum priority. **Rule updates with falcoctl.** The chart's `falcoctl` sidecar installs
# the pinned upstream rulesets at start-up; with `follow` on it also polls for new versions
# and Falco reloads them while running (the workshop keeps `follow` off so that its outputs
# stay reproducible). Both are values: here is a snippet that turns them on, checked
# against the chart's own keys (chart 9.1.0, from the facts the project generates from it).
# Apply it with `helm upgrade falco falcosecurity/falco -n falco --reuse-values -f extra.yaml`;
# keep secrets such as the Slack webhook URL out of files (`--set-string` from a variable).

# %%
import yaml

from falco_lab.cluster.chart_keys import check_values

extra_text = """\
falcosidekick:
  config:
    slack:
      webhookurl: ""            # --set-string falcosidekick.config.slack.webhookurl=$SLACK_URL
      minimumpriority: warning
    webhook:
      address: http://alert-receiver.default.svc:8080/falco
      minimumpriority: notice
falcoctl:
  artifact:
    follow:
      enabled: true
  config:
    artifact:
      follow:
        every: 6h
"""
problems = check_values(yaml.safe_load(extra_text))
print(extra_text)
print("chart keys: all known" if not problems else "\n".join(f"{p.key}: {p.message}" for p in problems))
misspelt = check_values(yaml.safe_load(extra_text.replace("minimumpriority: notice", "minimumpriorty: notice")))
print("\nwith a typo:", "; ".join(f"{p.key}: {p.message}" for p in misspelt))
nb.record("extra_values_problems", [p.key for p in problems])

# %% [markdown]
# ## What next
#
# * Notebook 2 teaches the rules language: read the workshop's rules, write your own, and
#   test them offline.
# * Notebook 3 starts the three test pods and shows the alerts they raise.
# * Try: set `mode = "cluster"`, keep `dry_run = True`, and read the helm command before
#   you install for real.
