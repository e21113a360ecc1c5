"""The world model: node naming, ids, mounts and process fields as Falco shows them."""

from __future__ import annotations

import re

import pytest

from falco_lab.simulate import Mount, Process, build_world
from falco_lab.simulate.actions import Simulator
from falco_lab.simulate.images import split_image

EKS_NODE = re.compile(r"^ip-10-0-\d{1,3}-\d{1,3}\.eu-west-1\.compute\.internal$")
START = 1_795_420_800_000_000_000


def test_nodes_have_eks_private_dns_names() -> None:
    world = build_world(5, seed=3)
    assert len(world.nodes) == 5
    assert all(EKS_NODE.match(name) for name in world.nodes)


def test_node_name_matches_its_ip() -> None:
    node = next(iter(build_world(1, seed=0).nodes.values()))
    assert node.name.startswith("ip-" + node.ip.replace(".", "-") + ".")


def test_nodes_carry_ami_family_and_kernel() -> None:
    world = build_world(12, seed=1)
    assert {n.ami_family for n in world.nodes.values()} <= {"AL2023", "Bottlerocket", "AL2"}
    assert all(re.match(r"^\d+\.\d+\.\d+", n.kernel) for n in world.nodes.values())


def test_world_is_labelled_simulated() -> None:
    world = build_world(1)
    assert world.context == "simulated-eks"
    assert world.simulated is True


def test_a_cluster_needs_a_node() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        build_world(0)


def test_same_seed_same_topology_and_different_seed_differs() -> None:
    assert list(build_world(4, seed=7).nodes) == list(build_world(4, seed=7).nodes)
    assert list(build_world(4, seed=7).nodes) != list(build_world(4, seed=8).nodes)


def test_mount_text_is_the_container_plugin_form() -> None:
    assert Mount("/etc", "/host/etc", "ro", False).text() == "/etc:/host/etc:ro:false:rprivate"
    assert Mount("/var/run/x", "/x").text() == "/var/run/x:/x::true:rprivate"


def test_cmdline_is_name_plus_args() -> None:
    proc = Process(
        pid=10,
        vpid=1,
        name="sh",
        exe="/bin/sh",
        exepath="/bin/busybox",
        args=("-c", "id"),
        cwd="/",
        uid=0,
        user="root",
        node="n",
    )
    assert proc.cmdline == "sh -c id"


def test_ancestors_walk_to_the_root() -> None:
    root = Process(
        pid=1, vpid=1, name="systemd", exe="s", exepath="s", args=(), cwd="/", uid=0, user="root", node="n"
    )
    mid = Process(
        pid=5,
        vpid=5,
        name="runc",
        exe="r",
        exepath="r",
        args=(),
        cwd="/",
        uid=0,
        user="root",
        node="n",
        parent=root,
    )
    leaf = Process(
        pid=9,
        vpid=2,
        name="sh",
        exe="sh",
        exepath="b",
        args=(),
        cwd="/",
        uid=0,
        user="root",
        node="n",
        parent=mid,
    )
    assert [p.name for p in leaf.ancestors()] == ["runc", "systemd"]
    assert leaf.ppid == 5


def test_container_id_is_the_first_12_of_64_hex_digits() -> None:
    world = build_world(1, seed=2)
    sim = Simulator(world, seed=2, start_ns=START)
    pod = sim.create_pod(
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    )
    container = pod.containers[0]
    assert re.fullmatch(r"[0-9a-f]{64}", container.full_id)
    assert container.id == container.full_id[:12]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("busybox:1.36", ("docker.io/library/busybox:1.36", "docker.io/library/busybox", "1.36")),
        ("nginx", ("docker.io/library/nginx:latest", "docker.io/library/nginx", "latest")),
        ("prom/node-exporter:v1", ("docker.io/prom/node-exporter:v1", "docker.io/prom/node-exporter", "v1")),
        ("public.ecr.aws/x/y:2", ("public.ecr.aws/x/y:2", "public.ecr.aws/x/y", "2")),
        ("localhost:5000/app:3", ("localhost:5000/app:3", "localhost:5000/app", "3")),
    ],
)
def test_image_references_are_normalised_like_the_container_plugin(image, expected) -> None:
    assert split_image(image) == expected
