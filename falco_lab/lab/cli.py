"""``falco-lab cluster ...`` sub-commands (either mode: ``--mode simulate`` or ``--mode cluster``).

``preflight``, ``install``, ``status``, ``test-pods``, ``cleanup``, ``respond`` and
``manifests``. Commands that change the cluster accept ``--dry-run``; ``respond``
only prints its plan unless ``--apply`` is given.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from falco_lab.lab.connect import connect
from falco_lab.workshop.interface import ClusterError
from falco_lab.workshop.manifests import CONTAINERD_SOCKET, NAMESPACE, pod_manifests, render_yaml


def _print_table(frame: pd.DataFrame) -> None:
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(frame.to_string(index=False) if not frame.empty else "(nothing)")


def _connect(args: argparse.Namespace):
    if args.mode == "simulate":
        return connect("simulate")
    return connect("cluster", context=args.context, kubeconfig=args.kubeconfig)


def _eks(args: argparse.Namespace):
    if args.mode != "cluster":
        raise ClusterError(f"`{args.cluster_command}` needs --mode cluster")
    from falco_lab.cluster.eks import EKSCluster

    return EKSCluster.from_config(context=args.context, kubeconfig=args.kubeconfig)


def _preflight(args: argparse.Namespace) -> int:
    cluster = _connect(args)
    print(f"context: {cluster.context} ({cluster.mode})")
    table = cluster.preflight()
    _print_table(table)
    return 1 if (table["status"] == "fail").any() else 0


def _install(args: argparse.Namespace) -> int:
    if args.uninstall or args.audit:
        if args.mode != "cluster":
            raise ClusterError("--uninstall and --audit need --mode cluster")
        from falco_lab.cluster.helm import Helm, audit_set_strings
        from falco_lab.workshop import chart

        helm = Helm(kube_context=args.context, kubeconfig=args.kubeconfig)
        if args.uninstall:
            print(helm.uninstall(dry_run=args.dry_run))
            return 0
        if not (args.region and args.eks_cluster and args.role_arn):
            raise ClusterError("--audit needs --region, --eks-cluster and --role-arn")
        sets = audit_set_strings(region=args.region, eks_cluster=args.eks_cluster, role_arn=args.role_arn)
        print(
            helm.install(
                release=chart.AUDIT_RELEASE,
                values=[chart.AUDIT_VALUES_FILE],
                set_string=sets,
                dry_run=args.dry_run,
            )
        )
        return 0
    if args.dry_run and args.mode == "cluster":
        # no cluster needed to show the command
        from falco_lab.cluster.eks import install_command
        from falco_lab.cluster.helm import Helm
        from falco_lab.workshop import chart

        print(
            f"would create secret {chart.FALCO_NAMESPACE}/{chart.UI_SECRET} (random UI password) if missing"
        )
        print(install_command(Helm(kube_context=args.context, kubeconfig=args.kubeconfig)))
        return 0
    print(_connect(args).install_falco(dry_run=args.dry_run))
    return 0


def _status(args: argparse.Namespace) -> int:
    cluster = _connect(args)
    table = cluster.readiness()
    _print_table(table)
    return 0 if bool(table["ready"].all()) and not table.empty else 1


def _test_pods(args: argparse.Namespace) -> int:
    if args.dry_run:
        for manifest in pod_manifests(socket=args.socket):
            print(f"would create pod {manifest['metadata']['namespace']}/{manifest['metadata']['name']}")
        print("would exec `sh` with and without a TTY in the shell pod, then delete all three pods")
        return 0
    from falco_lab.workshop.steps import run_workshop_tests

    results = run_workshop_tests(_connect(args), timeout=args.timeout)
    shown = results[["step", "pod", "ok", "started", "finished", "detail", "expected_rules"]].copy()
    shown["detail"] = shown["detail"].str.replace("\n", " ", regex=False).str.replace("\r", "", regex=False)
    _print_table(shown)
    return 0 if bool(results["ok"].all()) else 1


def _cleanup(args: argparse.Namespace) -> int:
    if args.dry_run:
        if args.mode != "cluster":
            print("simulate mode: nothing would be removed from a real cluster")
            return 0
        from falco_lab.cluster.pods import find_labelled

        found = find_labelled(_eks(args).clients)
        print("\n".join(f"would delete {name}" for name in found.names()) or "nothing labelled by falco-lab")
        for note in found.unsearched:
            print(f"not searched: {note}")
        return 0
    if args.mode == "cluster":
        from falco_lab.cluster.pods import cleanup

        report = cleanup(_eks(args).clients)
        removed, unsearched = report.removed, report.unsearched
    else:
        removed, unsearched = _connect(args).cleanup(), []
    print("\n".join(f"deleted {name}" for name in removed) or "nothing labelled by falco-lab")
    for note in unsearched:
        print(f"not searched: {note}")
    return 0


def _since_window(args: argparse.Namespace, eks) -> tuple[pd.Timestamp | None, str]:
    """The start of the alert window ``respond`` reads, and how it was chosen (said to the user)."""
    from falco_lab.events.since import since_cutoff

    if args.since == "all":
        return None, "all alerts (--since all)"
    if args.since:
        try:
            text = args.since
            value = pd.Timestamp(text) if text[:1].isdigit() and ("-" in text or "T" in text) else text
            cutoff = since_cutoff(value)
        except ValueError as exc:
            raise ClusterError(f"--since {args.since!r}: {exc}") from exc
        return cutoff, f"alerts since {cutoff.isoformat()} (--since {args.since})"
    if args.alerts:
        return None, "all alerts of the given sources (no --since)"
    if eks is None:
        return None, "all alerts of the simulated cluster"
    from falco_lab.cluster.pods import last_test_run

    started = last_test_run(eks.clients)
    if started is None:
        raise ClusterError(
            "no test run is recorded on the falco-lab namespace, so there is no default alert window: "
            "pass --since (e.g. --since 1h, --since 2026-12-04T09:00Z, or --since all)"
        )
    cutoff = pd.Timestamp(started)
    return cutoff, f"alerts since the last test run, {cutoff.isoformat()} (--since to change)"


def _respond(args: argparse.Namespace) -> int:
    from falco_lab.cluster.response import (
        PROTECTED_NAMESPACES,
        apply_response,
        format_plan,
        plan_response,
        pod_facts,
    )

    applying = args.apply and not args.dry_run
    # planning from alert files needs no cluster; reading the logs or applying does
    eks = _eks(args) if args.mode == "cluster" and (not args.alerts or applying) else None
    cutoff, window = _since_window(args, eks)
    if args.alerts:
        from falco_lab.events import load_events

        alerts = load_events(*args.alerts)
        if cutoff is not None and "time" in alerts.columns:
            alerts = alerts[pd.to_datetime(alerts["time"], utc=True) >= cutoff]
    else:
        cluster = eks if eks is not None else _connect(args)
        alerts = cluster.falco_alerts(since=None if cutoff is None else cutoff.to_pydatetime())
    print(f"window: {window}; {len(alerts)} alert(s)")
    actions = [a.strip() for a in args.actions.split(",") if a.strip()]
    protected = (
        PROTECTED_NAMESPACES
        if args.protected is None
        else frozenset(n.strip() for n in args.protected.split(",") if n.strip())
    )
    lookup = pod_facts(eks.clients) if eks is not None else None
    enforcement = None
    if eks is not None and "isolate" in actions:
        from falco_lab.cluster.netpol import network_policy_enforcement

        enforcement = network_policy_enforcement(eks.clients)
        print(f"network policies: {enforcement.label} ({enforcement.detail})")
    plan = plan_response(
        alerts,
        actions=actions,
        min_priority=args.min_priority,
        protected=protected,
        lookup=lookup,
        enforcement=enforcement,
    )
    print(format_plan(plan))
    if not applying:
        if plan:
            print("\n(plan only: add --apply to carry it out)")
        return 0
    if eks is None:
        raise ClusterError("`respond --apply` needs --mode cluster")
    report = apply_response(eks.clients, plan)
    for line in report.lines:
        print(line)
    print(report.summary())
    return 0 if report.ok else 1


def _manifests(args: argparse.Namespace) -> int:
    sys.stdout.write(render_yaml(args.namespace, socket=args.socket))
    return 0


def _wrap(handler):
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ClusterError as exc:
            print(f"falco-lab cluster {args.cluster_command}: {exc}", file=sys.stderr)
            return 2

    return run


def _connection_options(parser: argparse.ArgumentParser, *, mode: bool = True) -> None:
    if mode:
        parser.add_argument(
            "--mode",
            choices=("cluster", "simulate"),
            default="cluster",
            help="real cluster (default) or simulated",
        )
    parser.add_argument("--context", help="kube context name (default: the current context)")
    parser.add_argument("--kubeconfig", help="kubeconfig path (default: $KUBECONFIG or ~/.kube/config)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``cluster`` command group to the top-level parser."""
    parser = subparsers.add_parser("cluster", help="cluster mode: install Falco, run the test pods, respond")
    sub = parser.add_subparsers(dest="cluster_command", metavar="SUBCOMMAND")
    sub.required = True

    p = sub.add_parser("preflight", help="check cluster, nodes (kernel -> driver), helm and namespace")
    _connection_options(p)
    p.set_defaults(handler=_wrap(_preflight))

    p = sub.add_parser("install", help="install/upgrade Falco with helm (pinned chart, values.yaml)")
    _connection_options(p)
    p.add_argument(
        "--dry-run", action="store_true", help="print the exact helm command instead of running it"
    )
    p.add_argument("--uninstall", action="store_true", help="uninstall the release instead")
    p.add_argument(
        "--audit", action="store_true", help="install the k8saudit-eks release (values-k8saudit-eks.yaml)"
    )
    p.add_argument("--region", help="AWS region of the cluster (with --audit)")
    p.add_argument("--eks-cluster", help="EKS cluster name (with --audit)")
    p.add_argument("--role-arn", help="IAM role for the audit release's ServiceAccount (with --audit)")
    p.set_defaults(handler=_wrap(_install))

    p = sub.add_parser("status", help="readiness: DaemonSet on every node, engine, rules, sidekick, UI")
    _connection_options(p)
    p.set_defaults(handler=_wrap(_status))

    p = sub.add_parser("test-pods", help="run the three workshop tests (pods are always deleted)")
    _connection_options(p)
    p.add_argument("--dry-run", action="store_true", help="say what would be done")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for each pod (default 120)")
    p.add_argument("--socket", default=CONTAINERD_SOCKET, help=argparse.SUPPRESS)
    p.set_defaults(handler=_wrap(_test_pods))

    p = sub.add_parser("cleanup", help="delete everything falco-lab labelled")
    _connection_options(p)
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    p.set_defaults(handler=_wrap(_cleanup))

    p = sub.add_parser("respond", help="plan (and with --apply, carry out) a response to alerts")
    _connection_options(p)
    p.add_argument(
        "--alerts", nargs="*", metavar="SOURCE", help="alert files/URLs (default: the cluster's Falco logs)"
    )
    p.add_argument("--actions", default="label,isolate", help="comma list of label, isolate, delete")
    p.add_argument("--min-priority", default="Warning", help="act on alerts at this priority or above")
    p.add_argument(
        "--since",
        help="alert window: a duration (1h, 30min), an ISO time, or 'all' "
        "(default: since the last test run in cluster mode; all alerts of --alerts sources)",
    )
    p.add_argument(
        "--protected",
        metavar="NS,...",
        help="namespaces never acted on (replaces the default: kube-system, kube-public, "
        "kube-node-lease, falco and the EKS add-on namespaces)",
    )
    p.add_argument("--apply", action="store_true", help="carry the plan out (default: print it only)")
    p.add_argument("--dry-run", action="store_true", help="print the plan only, even with --apply")
    p.set_defaults(handler=_wrap(_respond))

    p = sub.add_parser("manifests", help="print the namespace and the three test pods as YAML")
    p.add_argument("--namespace", default=NAMESPACE)
    p.add_argument("--socket", default=CONTAINERD_SOCKET, help="host path of the runtime socket (test 2)")
    p.set_defaults(handler=_manifests)
