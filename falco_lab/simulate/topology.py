"""Build the initial state of a simulated EKS cluster: nodes and namespaces."""

from __future__ import annotations

import random

from falco_lab.simulate.model import SIMULATED_CONTEXT, Namespace, Node, World

#: (AMI family, kernel, weight) of the simulated node groups.
_AMIS = (
    ("AL2023", "6.1.155-176.282.amzn2023.x86_64", 6),
    ("Bottlerocket", "6.1.153", 2),
    ("AL2", "5.10.240-238.955.amzn2.x86_64", 1),
)
_INSTANCE_TYPES = ("m6i.large", "m6i.xlarge", "m7i.large", "c6i.xlarge")
_SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def build_world(
    nodes: int = 3,
    *,
    seed: int = 0,
    region: str = "eu-west-1",
    name: str = "falco-lab",
    kubernetes_version: str = "1.32",
) -> World:
    """A cluster of ``nodes`` worker nodes spread over three availability zones.

    Node names are EKS-style private DNS names (``ip-10-0-12-34.eu-west-1.compute.internal``);
    AMI families and kernels are a seeded mix of AL2023, Bottlerocket and AL2.
    """
    if nodes < 1:
        raise ValueError(f"a cluster needs at least one node, got {nodes}")
    rng = random.Random(f"topology:{seed}")
    families = [a for a in _AMIS for _ in range(a[2])]
    node_map: dict[str, Node] = {}
    used: set[str] = set()
    for index in range(nodes):
        zone = f"{region}{'abc'[index % 3]}"
        while True:
            third = 16 * (index % 3) + rng.randint(0, 15)
            ip = f"10.0.{third}.{rng.randint(4, 250)}"
            if ip not in used:
                used.add(ip)
                break
        family, kernel, _ = families[rng.randrange(len(families))] if index else _AMIS[0]
        node_name = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
        node_map[node_name] = Node(
            name=node_name,
            ip=ip,
            zone=zone,
            instance_type=rng.choice(_INSTANCE_TYPES),
            ami_family=family,
            kernel=kernel,
        )
    world = World(
        name=name,
        region=region,
        kubernetes_version=kubernetes_version,
        nodes=node_map,
        context=SIMULATED_CONTEXT,
    )
    for ns in _SYSTEM_NAMESPACES:
        world.namespaces[ns] = Namespace(ns, {"kubernetes.io/metadata.name": ns})
    return world


__all__ = ["build_world"]
