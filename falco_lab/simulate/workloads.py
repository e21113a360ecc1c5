"""Seeded, deterministic workloads: benign background activity and injectable incidents.

The background is what a small production EKS cluster does all day: node agents
(VPC CNI, kube-proxy, EBS CSI, node-exporter, Falco) on every node; web servers, APIs, a
database and a cache serving traffic; exec probes; cron jobs (reports, database
backups, a kubectl clean-up job); CI pods installing packages; operators running
``kubectl exec`` a few times a day; node housekeeping.  Some of it trips Falco rules
although it is benign (shells in probes, package managers in containers, API-server
calls from a job, operators' terminals): the noise a real deployment has to tune.

Incidents injected into the same world live in :mod:`falco_lab.simulate.incidents`.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from falco_lab.simulate.actions import Simulator
from falco_lab.simulate.catalogue import APP_REGISTRY, App, load_apps
from falco_lab.simulate.model import Pod, Process
from falco_lab.simulate.tools import API_SERVER_IP, KNOWN_HOSTS

NS = 1_000_000_000
MINUTE = 60 * NS
HOUR = 60 * MINUTE


def _suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(length))


def app_manifest(app: App, pod_name: str, node: str | None = None) -> dict:
    """The pod manifest of one replica of ``app`` (plain dict, like cluster mode's manifests)."""
    labels = {"app.kubernetes.io/name": app.name, **app.labels}
    container: dict = {"name": app.name, "image": app.image, "command": list(app.command)}
    security: dict = {}
    if app.privileged:
        security["privileged"] = True
    if app.run_as_user is not None:
        security["runAsUser"] = app.run_as_user
    if security:
        container["securityContext"] = security
    spec: dict = {"containers": [container]}
    if node is not None:
        spec["nodeName"] = node
    if app.host_network:
        spec["hostNetwork"] = True
    if app.host_pid:
        spec["hostPID"] = True
    if app.host_paths:
        spec["volumes"] = [
            {"name": f"host-{i}", "hostPath": {"path": path, "type": kind}}
            for i, (path, _, kind) in enumerate(app.host_paths)
        ]
        container["volumeMounts"] = [
            {"name": f"host-{i}", "mountPath": mount} for i, (_, mount, _) in enumerate(app.host_paths)
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": app.namespace, "labels": labels},
        "spec": spec,
    }


@dataclass(slots=True)
class Replica:
    """One running replica of an :class:`App`: its current pod and the workers its entrypoint forked.

    A rollout replaces ``pod`` and ``workers``; activities read them when they run.
    """

    app: App
    pod: Pod
    workers: list[Process] = field(default_factory=list)


@dataclass(slots=True)
class Fleet:
    """The long-running replicas of the background."""

    replicas: list[Replica] = field(default_factory=list)

    def by_role(self, role: str) -> list[Pod]:
        """Current pods of the replicas of apps with ``role``."""
        return [r.pod for r in self.replicas if r.app.role == role]

    def replicas_of(self, role: str) -> list[Replica]:
        return [r for r in self.replicas if r.app.role == role]


def _start_replica(
    sim: Simulator, app: App, pod_name: str, node: str | None, at: int | None = None
) -> Replica:
    pod = sim.create_pod(app_manifest(app, pod_name, node), at=at)
    main = sim.entrypoint(pod.containers[0])
    workers: list[Process] = []
    if app.role == "web":
        workers = [sim.fork(main, uid=101) for _ in range(2)]
    elif app.role == "api":
        workers = [sim.fork(main) for _ in range(2)]
    return Replica(app, pod, workers)


def _template_hash(rng: random.Random) -> str:
    return "".join(rng.choice(string.hexdigits.lower()[:16]) for _ in range(9))


def deploy_fleet(sim: Simulator, *, region: str) -> Fleet:
    """Create the cluster's long-running pods *before* capture starts (no events)."""
    rng = random.Random(sim.rng.getrandbits(64))
    fleet = Fleet()
    world = sim.world
    with sim.unobserved():
        if not world.falco.installed:
            sim.install_falco()
        for node, pod_name in world.falco.daemonset_pods.items():
            falco_pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": "falco",
                    "labels": {"app.kubernetes.io/name": "falco"},
                },
                "spec": {
                    "nodeName": node,
                    "containers": [
                        {
                            "name": "falco",
                            "image": f"docker.io/falcosecurity/falco:{world.falco.falco_version}",
                            "command": ["/usr/bin/falco"],
                            "volumeMounts": [
                                {"name": "etc", "mountPath": "/host/etc", "readOnly": True},
                                {"name": "proc", "mountPath": "/host/proc", "readOnly": True},
                                {"name": "sock", "mountPath": "/host/run/containerd/containerd.sock"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "etc", "hostPath": {"path": "/etc"}},
                        {"name": "proc", "hostPath": {"path": "/proc"}},
                        {"name": "sock", "hostPath": {"path": "/run/containerd/containerd.sock"}},
                    ],
                },
            }
            sim.create_pod(falco_pod)
        for app in load_apps(region=region, nodes=len(world.nodes)):
            if app.per_node:
                targets: list[tuple[str, str | None]] = [
                    (f"{app.name}-{_suffix(rng)}", node) for node in world.nodes
                ]
            else:
                template = _template_hash(rng)
                targets = [(f"{app.name}-{template}-{_suffix(rng)}", None) for _ in range(app.replicas)]
            for pod_name, target_node in targets:
                fleet.replicas.append(_start_replica(sim, app, pod_name, target_node))
    return fleet


# ---------------------------------------------------------------------- activities
Activity = Callable[[Simulator, int], object]


@dataclass(slots=True)
class Schedule:
    """Timed activities, run in time order by :meth:`run`."""

    items: list[tuple[int, int, Activity]] = field(default_factory=list)

    def add(self, at: int, activity: Activity) -> None:
        self.items.append((at, len(self.items), activity))

    def run(self, sim: Simulator) -> None:
        for at, _, activity in sorted(self.items, key=lambda item: (item[0], item[1])):
            activity(sim, at)


def _periodic(
    schedule: Schedule, rng: random.Random, start: int, end: int, period: int, activity: Activity
) -> None:
    t = start + rng.randint(0, period)
    while t < end:
        schedule.add(t, activity)
        t += period + rng.randint(-period // 10, period // 10)


def _web_burst(replica: Replica, api_ip: str) -> Activity:
    pages = (
        "/usr/share/nginx/html/index.html",
        "/usr/share/nginx/html/assets/app.js",
        "/usr/share/nginx/html/favicon.ico",
    )

    def run(sim: Simulator, at: int) -> None:
        worker = replica.workers[sim.rng.randrange(len(replica.workers))]
        sim.open_file(worker, pages[sim.rng.randrange(len(pages))], at=at)
        sim.connect(worker, api_ip, 8000)

    return run


def _api_burst(replica: Replica, redis_ip: str, db_ip: str) -> Activity:
    def run(sim: Simulator, at: int) -> None:
        worker = replica.workers[sim.rng.randrange(len(replica.workers))]
        sim.connect(worker, redis_ip, 6379, at=at)
        sim.open_file(worker, "/app/templates/order.html")
        sim.connect(worker, db_ip, 5432)

    return run


def _rollout(replicas: list[Replica]) -> Activity:
    """A Deployment rollout: each replica's pod is replaced by one from a new ReplicaSet."""

    def run(sim: Simulator, at: int) -> None:
        template = _template_hash(sim.rng)
        for replica in replicas:
            old = replica.pod
            fresh = _start_replica(
                sim, replica.app, f"{replica.app.name}-{template}-{_suffix(sim.rng)}", None, at=at
            )
            sim.delete_pod(old, at=sim.tick(NS, 5 * NS))
            replica.pod, replica.workers = fresh.pod, fresh.workers
            at = sim.tick(5 * NS, 20 * NS)

    return run


def _exec_probe(pod: Pod, command: list[str]) -> Activity:
    def run(sim: Simulator, at: int) -> None:
        if pod.phase == "Running":
            proc, result = sim.exec_in_container(pod, command, at=at)
            sim.exit(proc, result.exit_code)

    return run


def _cron_job(
    name: str, namespace: str, image: str, command: list[str], behaviour: Callable[[Simulator, Process], None]
) -> Activity:
    def run(sim: Simulator, at: int) -> None:
        pod_name = f"{name}-{at // NS // 60}-{_suffix(sim.rng)}"
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/name": name,
                    "batch.kubernetes.io/job-name": pod_name.rsplit("-", 1)[0],
                },
            },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": name, "image": image, "command": command}],
            },
        }
        pod = sim.create_pod(manifest, at=at)
        main = sim.entrypoint(pod.containers[0])
        behaviour(sim, main)
        sim.exit(main, 0)
        sim.delete_pod(pod)

    return run


def _report(sim: Simulator, main: Process) -> None:
    sim.open_file(main, "/app/config.yaml")
    sim.connect(main, KNOWN_HOSTS["postgres.payments.svc.cluster.local"], 5432)
    sim.open_file(main, "/tmp/report.csv", write=True, create=True, trunc=True)
    sim.connect(
        main, KNOWN_HOSTS["s3.eu-west-1.amazonaws.com"], 443, server_name="s3.eu-west-1.amazonaws.com"
    )


def _backup(sim: Simulator, main: Process) -> None:
    sim.run_script(
        main,
        "pg_dump -h postgres.payments.svc.cluster.local -U backup payments > /tmp/payments.sql && "
        "gzip /tmp/payments.sql && aws s3 cp /tmp/payments.sql.gz s3://acme-db-backups/payments/",
    )


def _cleanup(sim: Simulator, main: Process) -> None:
    sim.connect(main, API_SERVER_IP, 443)


def _ci_build(sim: Simulator, main: Process) -> None:
    sim.run_script(
        main,
        "apt-get update && apt-get install -y --no-install-recommends git ca-certificates && "
        "pip install -r /workspace/requirements.txt && python -m pytest -q /workspace/tests",
    )


def _operator_session(replica: Replica, typed: list[str], tty: bool, command: list[str]) -> Activity:
    def run(sim: Simulator, at: int) -> None:
        proc, _ = sim.exec_in_container(replica.pod, command, tty=tty, typed=typed, at=at)
        sim.exit(proc, 0)

    return run


def _host_housekeeping(node: str) -> Activity:
    def run(sim: Simulator, at: int) -> None:
        systemd = sim.world.host_procs[node]["systemd"]
        proc = sim.spawn(systemd, ["logrotate", "/etc/logrotate.conf"], at=at)
        sim.open_file(proc, "/etc/logrotate.conf")
        sim.open_file(proc, "/var/log/messages.1", write=True, create=True, trunc=True)
        sim.exit(proc, 0)

    return run


def background(
    sim: Simulator, fleet: Fleet, *, start_ns: int, hours: float, intensity: float = 1.0
) -> Schedule:
    """Schedule a day's (or ``hours``') worth of benign activity; :meth:`Schedule.run` plays it."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    rng = random.Random(sim.rng.getrandbits(64))
    end = start_ns + int(hours * HOUR)
    schedule = Schedule()
    period = max(int(MINUTE / max(intensity, 1e-3)), NS)
    # pods talk to each other through their Services' ClusterIPs
    api_ip = KNOWN_HOSTS["api.shop.svc.cluster.local"]
    redis_ip = KNOWN_HOSTS["redis.shop.svc.cluster.local"]
    db_ip = KNOWN_HOSTS["postgres.payments.svc.cluster.local"]
    redis = fleet.by_role("cache")
    db = fleet.by_role("db")
    for replica in fleet.replicas_of("web"):
        _periodic(schedule, rng, start_ns, end, period, _web_burst(replica, api_ip))
    for replica in fleet.replicas_of("api"):
        if replica.workers:
            _periodic(schedule, rng, start_ns, end, period, _api_burst(replica, redis_ip, db_ip))
    for app_name in sorted({r.app.name for r in fleet.replicas if r.app.role in ("web", "api")}):
        # about one rollout per deployment and day, at a seeded moment
        if rng.random() < min(1.0, hours / 24):
            replicas = [r for r in fleet.replicas if r.app.name == app_name]
            schedule.add(start_ns + rng.randrange(int(hours * HOUR)), _rollout(replicas))
    for pod in db:
        _periodic(
            schedule,
            rng,
            start_ns,
            end,
            2 * MINUTE,
            _exec_probe(pod, ["sh", "-c", "pg_isready -U postgres -h 127.0.0.1"]),
        )
    for pod in redis:
        _periodic(schedule, rng, start_ns, end, 2 * MINUTE, _exec_probe(pod, ["redis-cli", "ping"]))
    for pod in fleet.by_role("cni"):
        _periodic(
            schedule,
            rng,
            start_ns,
            end,
            2 * MINUTE,
            _exec_probe(pod, ["/app/grpc-health-probe", "-addr=:50051"]),
        )
    region = sim.world.region
    mine = APP_REGISTRY.format(region=region)
    jobs = (
        (15 * MINUTE, "report", "batch", f"{mine}/shop-report:1.8.0", ["python3", "/app/report.py"], _report),
        (
            HOUR,
            "db-backup",
            "batch",
            "docker.io/library/postgres:16.4",
            ["sh", "-c", "/scripts/backup.sh"],
            _backup,
        ),
        (
            HOUR,
            "pod-cleanup",
            "ops",
            "docker.io/bitnami/kubectl:1.32.0",
            ["kubectl", "delete", "pods", "-n", "batch", "--field-selector=status.phase==Succeeded"],
            _cleanup,
        ),
        (
            45 * MINUTE,
            "ci-build",
            "ci",
            "docker.io/library/python:3.12-slim",
            ["sh", "-c", "/workspace/ci.sh"],
            _ci_build,
        ),
    )
    for every, name, namespace, image, command, behaviour in jobs:
        _periodic(schedule, rng, start_ns, end, every, _cron_job(name, namespace, image, command, behaviour))
    sessions = max(1, round(hours / 24 * rng.randint(3, 8)))
    targets = fleet.replicas_of("api") or fleet.replicas_of("web")
    for _ in range(sessions if targets else 0):
        replica = targets[rng.randrange(len(targets))]
        at = start_ns + rng.randrange(int(hours * HOUR))
        if rng.random() < 0.6:
            typed = ["ps aux", "cat /app/config.yaml", "env | grep -i db_", "ls /app"]
            schedule.add(at, _operator_session(replica, typed, True, ["bash"]))
        else:
            schedule.add(
                at, _operator_session(replica, [], False, ["python3", "-m", "app.manage", "showmigrations"])
            )
    for node in sim.world.nodes:
        _periodic(schedule, rng, start_ns, end, 24 * HOUR, _host_housekeeping(node))
    return schedule


__all__ = [
    "App",
    "Fleet",
    "Replica",
    "Schedule",
    "app_manifest",
    "background",
    "deploy_fleet",
]
