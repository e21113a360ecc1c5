"""Evaluation semantics of §7, per event: missing values, operators, lists, numbers, transformers."""

from __future__ import annotations

import ipaddress

import pytest

from falco_lab.rules.compiler.compile import compile_condition


def fires(condition: str, event: dict, **kwargs) -> bool:
    return compile_condition(condition, **kwargs).matches(event)


# ---------------------------------------------------------------- missing values (§7.2)


def test_missing_equality_is_false() -> None:
    assert not fires("proc.pname = bash", {})


def test_missing_inequality_is_false() -> None:
    assert not fires("proc.pname != bash", {})


def test_not_of_missing_check_is_true() -> None:
    assert fires("not proc.pname = bash", {})


def test_missing_exists_is_false() -> None:
    assert not fires("proc.pname exists", {"proc.pname": None})


def test_not_exists_on_missing_is_true() -> None:
    assert fires("not proc.pname exists", {})


def test_missing_in_is_false_and_not_in_is_true() -> None:
    assert not fires("proc.pname in (a, b)", {})
    assert fires("not proc.pname in (a, b)", {})


def test_empty_string_is_a_present_value() -> None:
    assert fires("proc.pname exists", {"proc.pname": ""})


def test_nan_is_missing() -> None:
    assert not fires("fd.num exists", {"fd.num": float("nan")})


def test_proc_name_exists_macro_is_true_when_missing() -> None:
    assert fires('(not proc.name in ("<NA>","N/A"))', {})


def test_container_macro_is_false_when_missing() -> None:
    assert not fires("container.id != host", {})


def test_field_comparison_false_when_right_side_missing() -> None:
    assert not fires("proc.name != val(proc.pname)", {"proc.name": "a"})


# ---------------------------------------------------------------- boolean structure


def test_and_or_precedence_evaluation() -> None:
    event = {"proc.name": "a"}
    assert fires("proc.name = a or proc.name = b and proc.name = c", event)
    assert not fires("(proc.name = a or proc.name = b) and proc.name = c", event)


# ---------------------------------------------------------------- string operators (§7.3)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("proc.name = bash", "bash", True),
        ("proc.name == bash", "Bash", False),
        ("proc.name != bash", "sh", True),
        ("proc.name < 5", "4", True),
        ("proc.name <= 10", "10", True),
        ("proc.name > 10", "9", True),  # strcmp order, not numeric
        ("proc.name >= 5", "10", False),
        ("proc.cmdline contains curl", "x curl y", True),
        ("proc.cmdline icontains CURL", "x cUrL y", True),
        ("proc.cmdline startswith sh", "sh -c", True),
        ("proc.cmdline startswith ''", "anything", True),
        ("proc.cmdline endswith .sh", "run.sh", True),
        ("fd.name glob '/home/*/.ssh/*'", "/home/a/b/.ssh/id_rsa", True),
        ("fd.name glob '/etc/?asswd'", "/etc/passwd", True),
        ("fd.name glob '/etc/[!p]asswd'", "/etc/passwd", False),
        ("fd.name iglob '/ETC/*'", "/etc/shadow", True),
        ("fd.name glob '/etc/*'", "/ETC/shadow", False),
        ("fd.name regex '[a-z]*/proc/[0-9]+/cmdline'", "x/proc/12/cmdline", True),
        ("fd.name regex 'proc'", "/proc/1", False),
        ("proc.name in (a, b)", "b", True),
        ("proc.name intersects (a, b)", "b", True),
        ("proc.name in ()", "a", False),
    ],
)
def test_string_operator(condition: str, value: str, expected: bool) -> None:
    field = condition.split()[0]
    assert fires(condition, {field: value}) is expected


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("/opt/dir", "/opt/dir/subdir/file.txt", True),
        ("/opt/di", "/opt/dir/subdir/file.txt", False),
        ("/opt/dir2", "/opt/dir/subdir/file.txt", False),
        ("/opt/*/subdir", "/opt/dir/subdir/file.txt", True),
        ("/opt/*/*/subsubdir", "/opt/dir/subdir/file.txt", False),
        ("/opt//dir/", "/opt/dir", True),
    ],
)
def test_pmatch(prefix: str, path: str, expected: bool) -> None:
    assert fires(f"fd.name pmatch ({prefix})", {"fd.name": path}) is expected


def test_icontains_folds_ascii_only() -> None:
    assert not fires("proc.name icontains É", {"proc.name": "é"})


# ---------------------------------------------------------------- buffers, numbers, booleans, addresses


def test_bcontains_hex() -> None:
    assert fires("evt.buffer bcontains 48545450", {"evt.buffer": b"GET / HTTP/1.1"})


def test_bstartswith_hex() -> None:
    assert not fires("evt.buffer bstartswith 4854", {"evt.buffer": b"GET"})


def test_numbers_given_as_text_are_converted() -> None:
    assert fires("fd.num >= 0", {"fd.num": "3"})


def test_negative_number() -> None:
    assert fires("fd.num = -1", {"fd.num": -1})


def test_numbers_wrap_to_the_field_width() -> None:
    assert fires("user.loginuid = -1", {"user.loginuid": -1})
    assert fires("proc.vpid = 1", {"proc.vpid": 1.0})


def test_unsigned_field_wraps_negative_constants() -> None:
    assert fires("evt.num = -1", {"evt.num": 2**64 - 1})


def test_boolean_field_from_text() -> None:
    assert fires("evt.is_open_read = true", {"evt.is_open_read": "true"})
    assert not fires("evt.is_open_read = true", {"evt.is_open_read": False})


def test_unreadable_number_is_missing() -> None:
    assert not fires("fd.num != 1", {"fd.num": "abc"})


def test_ip_address_equality() -> None:
    assert fires("fd.sip = 127.0.0.1", {"fd.sip": "127.0.0.1"})
    assert fires("fd.sip = 127.0.0.1", {"fd.sip": ipaddress.ip_address("127.0.0.1")})


def test_ipnet_field_in_network() -> None:
    assert fires('fd.net in ("127.0.0.1/24")', {"fd.net": "127.0.0.42"})
    assert not fires('fd.net in ("127.0.0.1/24")', {"fd.net": "127.0.1.1"})


def test_ipv4_address_is_not_in_an_ipv6_network() -> None:
    assert not fires("fd.snet = ::/0", {"fd.snet": "10.0.0.1"})


def test_flags_text_contains() -> None:
    assert fires("evt.arg.flags contains O_TRUNC", {"evt.arg.flags": "O_RDWR|O_CREAT|O_TRUNC"})


# ---------------------------------------------------------------- list fields (§7.4)


def test_list_field_in_is_a_subset_test() -> None:
    condition = "ka.req.pod.containers.image in (a, b, c)"
    assert fires(condition, {"ka.req.pod.containers.image": ["a", "b"]}, source="k8s_audit")
    assert not fires(condition, {"ka.req.pod.containers.image": ["b", "c", "d"]}, source="k8s_audit")


def test_list_field_intersects() -> None:
    condition = "ka.user.groups intersects (system:masters)"
    assert fires(condition, {"ka.user.groups": ["a", "system:masters"]}, source="k8s_audit")


def test_empty_list_field_is_missing() -> None:
    assert not fires("ka.user.groups exists", {"ka.user.groups": []}, source="k8s_audit")


def test_list_field_from_printed_text() -> None:
    assert fires("ka.user.groups intersects (b)", {"ka.user.groups": "(a,b)"}, source="k8s_audit")


def test_ancestor_field_without_argument_means_any_ancestor() -> None:
    assert fires("proc.aname = sshd", {"proc.aname": ["bash", "sshd", "systemd"]})


# ---------------------------------------------------------------- transformers, val(), evt.dir


def test_tolower() -> None:
    assert fires("tolower(proc.name) = bash", {"proc.name": "BaSh"})


def test_toupper() -> None:
    assert fires("toupper(proc.name) = BASH", {"proc.name": "bash"})


def test_b64_decodes_without_padding() -> None:
    assert fires("b64(proc.cmdline) = test", {"proc.cmdline": "dGVzdA"})


def test_b64_that_does_not_decode_is_missing() -> None:
    assert not fires("b64(proc.cmdline) exists", {"proc.cmdline": "not base64!"})


def test_basename() -> None:
    assert fires("basename(proc.exepath) = bash", {"proc.exepath": "/usr/bin/bash"})
    assert fires('basename(fd.name) = ""', {"fd.name": "/usr/bin/"})


def test_len_counts_bytes() -> None:
    assert fires("len(proc.name) = 2", {"proc.name": "é"})


def test_len_of_list_field() -> None:
    assert fires("len(ka.user.groups) = 3", {"ka.user.groups": ["a", "b", "c"]}, source="k8s_audit")


def test_nested_transformers() -> None:
    assert fires("toupper(basename(fd.name)) = PASSWD", {"fd.name": "/etc/passwd"})


def test_transformer_on_the_right() -> None:
    assert fires("proc.name = tolower(proc.pname)", {"proc.name": "sh", "proc.pname": "SH"})


def test_val_field_comparison() -> None:
    assert fires("proc.name = val(proc.pname)", {"proc.name": "sh", "proc.pname": "sh"})
    assert not fires("proc.name = val(proc.pname)", {"proc.name": "sh", "proc.pname": "bash"})


def test_evt_dir_exit_is_always_true() -> None:
    assert fires("evt.dir = <", {})
    assert not fires("evt.dir = >", {"evt.dir": ">"})


def test_join_renders_items_as_text() -> None:
    assert fires('join(",", (proc.name, proc.pid)) = "myproc,123"', {"proc.name": "myproc", "proc.pid": 123})


def test_join_with_a_missing_item_is_missing() -> None:
    assert not fires('join(",", (proc.name, proc.pid)) exists', {"proc.name": "myproc"})


def test_concat() -> None:
    assert fires('concat(proc.name, "-", fd.name) = a-b', {"proc.name": "a", "fd.name": "b"})


# ---------------------------------------------------------------- modifiers (Falco 0.44)


def test_anyof() -> None:
    assert fires("proc.name startswith anyof (ba, zs)", {"proc.name": "bash"})


def test_allof() -> None:
    assert not fires("proc.name contains allof (ba, zs)", {"proc.name": "bash"})


def test_oneof() -> None:
    assert fires("proc.name contains oneof (ba, sh, zz)", {"proc.name": "bax"})
    assert not fires("proc.name contains oneof (ba, sh)", {"proc.name": "bash"})
