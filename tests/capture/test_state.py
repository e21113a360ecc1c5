"""Field values of real captures: process, fd, user and container state as libsinsp keeps it.

Each expected value below is what ``sysdig -r`` (libsinsp 0.29.3) prints for the same event.
"""

from __future__ import annotations

from typing import Any

import pytest

from falco_lab.capture import capture_events
from falco_lab.capture.params import CLONE_FLAGS, FILE_FLAGS, capability_names, flag_names
from falco_lab.capture.state import container_id_from_cgroups
from tests.capture._files import capture


def _rows(name: str, **kwargs: Any) -> list[dict[str, Any]]:
    return list(capture_events(capture(name), **kwargs))


def _one(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [row for row in rows if all(row.get(k) == v for k, v in match.items())]
    assert found, f"no row with {match}"
    return found[0]


def test_execve_in_a_container_has_process_tree_tty_and_container() -> None:
    row = _one(_rows("falco__psp_run_as_user_0_container.scap"), **{"evt.type": "execve", "evt.dir": "<"})
    assert (row["proc.name"], row["proc.pid"], row["proc.ppid"], row["proc.pname"]) == (
        "ls",
        32052,
        25754,
        "bash",
    )
    assert (row["proc.tty"], row["proc.sname"], row["user.name"]) == (34816, "bash", "root")
    assert row["container.id"] == "697956520d89"
    assert row["proc.aname[2]"] == "containerd-shim"


def test_open_exit_has_the_new_fd_and_flags_by_name() -> None:
    row = _one(_rows("falco__open-multiple-files.scap"), **{"evt.type": "open", "fd.name": "/tmp/file-1"})
    assert (row["fd.num"], row["fd.type"], row["fd.typechar"]) == (3, "file", "f")
    assert (row["fd.directory"], row["fd.filename"]) == ("/tmp", "file-1")
    assert row["evt.arg.flags"] == "O_RDONLY"
    assert row["evt.args"] == "fd=3(<f>/tmp/file-1) name=/tmp/file-1 flags=1(O_RDONLY) mode=0"
    assert (
        row["proc.cmdline"] == "python open.py" and row["proc.cwd"] == "/mnt/sf_mstemm/work/src/falco/test/"
    )


def test_connect_gives_the_socket_tuple() -> None:
    row = _one(_rows("falco__connect_localhost.scap"), **{"evt.type": "connect"})
    assert row["fd.name"] == "127.0.0.1:47192->127.0.0.1:80"
    assert (row["fd.sip"], row["fd.sport"], row["fd.cip"], row["fd.cport"]) == (
        "127.0.0.1",
        80,
        "127.0.0.1",
        47192,
    )
    assert (row["fd.l4proto"], row["fd.sockfamily"], row["fd.is_server"]) == ("tcp", "ip", True)
    assert (row["evt.rawres"], row["evt.res"], row["evt.failed"]) == (-115, "EINPROGRESS", True)
    # the connecting side is the client: its local port is the ephemeral one
    assert (row["fd.lport"], row["fd.rport"], row["fd.connected"]) == (47192, 80, True)
    assert row["evt.hostname"] == "ubuntu"


def test_exit_events_carry_their_enter_parameters_when_merged() -> None:
    merged = _one(_rows("falco__cat_write.scap"), **{"evt.type": "close", "evt.dir": "<"})
    unmerged = _one(
        _rows("falco__cat_write.scap", merge_enter=False), **{"evt.type": "close", "evt.dir": "<"}
    )
    assert merged["evt.arg.fd"] == "<f>/etc/ld.so.cache"
    assert "evt.arg.fd" not in unmerged
    assert merged["fd.name"] == unmerged["fd.name"] == "/etc/ld.so.cache"


def test_generic_events_are_named_by_their_syscall() -> None:
    types = {row["evt.type"] for row in _rows("falco__cat_write.scap")}
    assert {"mprotect", "arch_prctl"} <= types and "syscall" not in types


def test_only_exit_rows_unless_enter_events_are_asked_for() -> None:
    exits = _rows("falco__syscall.scap")
    both = _rows("falco__syscall.scap", enter_events=True)
    assert {row["evt.dir"] for row in exits} == {"<"}
    assert {row["evt.dir"] for row in both} == {"<", ">"} and len(both) > len(exits)


def test_container_event_metadata_reaches_container_fields() -> None:
    row = _one(_rows("falco__psp_write_tmp_test.scap"), **{"evt.type": "open"})
    assert (row["container.id"], row["container.name"], row["container.privileged"]) == (
        "697956520d89", "hopeful_taussig", False
    )  # fmt: skip
    assert row["fd.name"] == "/tmp/test" and row["evt.arg.flags"] == "O_TRUNC|O_CREAT|O_WRONLY"


@pytest.mark.parametrize(
    ("cgroups", "expected"),
    [
        (["cpuset=/docker/697956520d891b5cb0e215093970c733549a3f745f52263c05b37f8a488994ab"], "697956520d89"),
        (["cpu=/user.slice/user-1000.slice/session-1.scope"], "host"),
    ],
)
def test_container_id_from_cgroups(cgroups: list[str], expected: str) -> None:
    assert container_id_from_cgroups(cgroups) == expected


def test_capabilities_come_from_the_process_list() -> None:
    rows = _rows("libs__sample.scap")
    root = next(row for row in rows if row["user.uid"] == 0 and row["thread.cap_effective"])
    assert "CAP_SYS_ADMIN" in root["thread.cap_effective"].split()
    assert capability_names((1 << 21) | 1) == "CAP_CHOWN CAP_SYS_ADMIN"


def test_flag_names_take_bits_in_table_order() -> None:
    assert flag_names(4097, FILE_FLAGS) == "O_RDONLY|O_CLOEXEC"
    assert flag_names(3, FILE_FLAGS) == "O_RDWR"
    assert flag_names(0, FILE_FLAGS) == "O_NONE"
    assert flag_names(25165824, CLONE_FLAGS) == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"
