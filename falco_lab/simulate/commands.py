"""What commands do inside the simulated nodes: a small shell and the syscalls of known tools.

:func:`run_script` runs a shell script the way ``sh -c`` would: each external command is
a child process of the shell (one ``execve``), builtins run inside the shell, and
redirections make the shell open files.  :func:`run_command` plays the syscalls a known
tool makes after its ``execve`` (``cat`` reads files, ``curl``/``wget`` connect and write,
``nc -e`` duplicates its socket onto stdio, package managers download and unpack...).
Outputs are simulated: only what the simulator knows (``echo``, ``id``, ``hostname``...).
"""

from __future__ import annotations

import ipaddress
import posixpath
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from falco_lab.simulate.model import Process, World

if TYPE_CHECKING:  # pragma: no cover
    from falco_lab.simulate.actions import Simulator

#: errno names and values used by the simulated syscalls.
ERRNO = {"EACCES": 13, "EROFS": 30, "ENOENT": 2, "EINPROGRESS": 115}

#: Kubernetes API server ClusterIP (the ``kubernetes`` service of an EKS cluster).
API_SERVER_IP = "172.20.0.1"

#: Deterministic "DNS" for names the simulated workloads contact.
KNOWN_HOSTS: dict[str, str] = {
    "deb.debian.org": "151.101.2.132",
    "dl-cdn.alpinelinux.org": "151.101.130.133",
    "pypi.org": "151.101.0.223",
    "files.pythonhosted.org": "151.101.65.55",
    "s3.eu-west-1.amazonaws.com": "52.218.48.10",
    "sts.eu-west-1.amazonaws.com": "67.220.240.126",
    "api.github.com": "140.82.121.6",
    "kubernetes.default.svc": API_SERVER_IP,
    "kubernetes.default.svc.cluster.local": API_SERVER_IP,
    "postgres.payments.svc.cluster.local": "172.20.77.20",
    "redis.shop.svc.cluster.local": "172.20.88.31",
    "api.shop.svc.cluster.local": "172.20.45.10",
}


@dataclass(slots=True)
class CommandResult:
    """What a simulated command printed and how it exited."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


_BUILTINS = frozenset(
    {"echo", "cd", "export", "true", "false", ":", "exit", "set", "unset", "read", "printf"}
)


def run_script(sim: Simulator, shell: Process, script: str) -> CommandResult:
    """Run a small shell script as ``shell`` would: each external command is a child process.

    Supports ``;``, ``&&``, ``||``, ``|`` and the redirections ``>``, ``>>`` and ``<``;
    builtins (``echo``, ``cd``, ``export``, ``true``...) run inside the shell itsim.
    """
    out = CommandResult()
    try:
        segments = _split_script(script)
    except ValueError:
        return CommandResult(stderr=f"{shell.name}: syntax error: unterminated quoted string\n", exit_code=2)
    for segment, joiner in segments:
        if joiner == "&&" and out.exit_code != 0:
            continue
        if joiner == "||" and out.exit_code == 0:
            continue
        stdout_parts: list[str] = []
        code = 0
        for words in _pipeline(segment):
            words, redirects = _redirections(words)
            if not words:
                continue
            step = _run_simple(sim, shell, words, redirects)
            stdout_parts.append(step.stdout)
            out.stderr += step.stderr
            code = step.exit_code
        out.stdout += "".join(stdout_parts)
        out.exit_code = code
    return out


def _run_simple(
    sim: Simulator, shell: Process, words: list[str], redirects: list[tuple[str, str]]
) -> CommandResult:
    name = words[0]
    for op, target in redirects:
        if op == "<":
            sim.open_file(shell, target)
        else:
            fd = sim.open_file(shell, target, write=True, create=True, trunc=op == ">", append=op == ">>")
            if fd < 0:
                return CommandResult(stderr=f"sh: can't create {target}: {_strerror(-fd)}\n", exit_code=1)
    if name in _BUILTINS:
        if name == "cd" and len(words) > 1:
            shell.cwd = posixpath.normpath(posixpath.join(shell.cwd, words[1]))
        text = " ".join(words[1:]) + "\n" if name == "echo" else ""
        code = 1 if name == "false" else 0
        if name == "exit" and len(words) > 1 and words[1].isdigit():
            code = int(words[1])
        return CommandResult(stdout="" if redirects and name == "echo" else text, exit_code=code)
    child = sim.spawn(shell, words)
    result = run_command(sim, child)
    sim.exit(child, result.exit_code)
    if redirects and any(op != "<" for op, _ in redirects):
        result.stdout = ""
    return result


def run_command(sim: Simulator, proc: Process) -> CommandResult:
    """The syscalls a known command makes after its execve (files read/written, connections)."""
    name, args = proc.name, list(proc.args)
    operands = [a for a in args if not a.startswith("-")]
    if name in ("cat", "head", "tail", "grep", "less", "md5sum", "sha256sum"):
        files = operands[1:] if name == "grep" else operands
        code = 0
        err = ""
        for path in files:
            fd = sim.open_file(proc, _abspath(proc, path))
            if fd < 0:
                code = 1
                err += f"{name}: can't open '{path}': {_strerror(-fd)}\n"
        return CommandResult(stderr=err, exit_code=code)
    if name in ("curl", "wget"):
        return _download(sim, proc, args)
    if name in ("nc", "ncat") and len(operands) >= 2 and operands[1].isdigit():
        fd = sim.connect(proc, _resolve(operands[0]), int(operands[1]))
        if "-e" in args:
            for newfd in (0, 1, 2):
                sim.dup2(proc, fd, newfd)
        return CommandResult()
    if name in ("touch",):
        for path in operands:
            sim.open_file(proc, _abspath(proc, path), write=True, create=True)
        return CommandResult()
    if name == "cp" and len(operands) >= 2:
        sim.open_file(proc, _abspath(proc, operands[0]))
        fd = sim.open_file(proc, _abspath(proc, operands[-1]), write=True, create=True, trunc=True)
        return CommandResult(exit_code=0 if fd >= 0 else 1)
    if name == "chmod" and len(operands) >= 2:
        mode = operands[0] if operands[0].isdigit() else "0755"
        for path in operands[1:]:
            sim.chmod(proc, _abspath(proc, path), mode.rjust(4, "0"))
        return CommandResult()
    if name == "kubectl":
        sim.connect(proc, API_SERVER_IP, 443)
        return CommandResult()
    if name in ("apt-get", "apt") and "update" in args:
        sim.connect(proc, KNOWN_HOSTS["deb.debian.org"], 80, server_name="deb.debian.org")
        sim.open_file(
            proc,
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
            write=True,
            create=True,
            trunc=True,
        )
        return CommandResult()
    if name in ("apt-get", "apt") and "install" in args:
        sim.connect(proc, KNOWN_HOSTS["deb.debian.org"], 80, server_name="deb.debian.org")
        dpkg = sim.spawn(proc, ["/usr/bin/dpkg", "--status-fd", "44", "--unpack", "--auto-deconfigure"])
        for package in [a for a in operands if a != "install"]:
            sim.open_file(dpkg, f"/var/lib/dpkg/info/{package}.list", write=True, create=True, trunc=True)
            sim.open_file(dpkg, f"/usr/bin/{package}.dpkg-new", write=True, create=True, trunc=True)
        sim.exit(dpkg, 0)
        return CommandResult()
    if name in ("pip", "pip3"):
        sim.connect(proc, KNOWN_HOSTS["pypi.org"], 443, server_name="pypi.org")
        sim.connect(proc, KNOWN_HOSTS["files.pythonhosted.org"], 443, server_name="files.pythonhosted.org")
        sim.open_file(
            proc,
            "/usr/local/lib/python3.12/site-packages/requests/__init__.py",
            write=True,
            create=True,
            trunc=True,
        )
        return CommandResult()
    if name == "aws":
        sim.connect(
            proc,
            KNOWN_HOSTS["sts.eu-west-1.amazonaws.com"],
            443,
            server_name="sts.eu-west-1.amazonaws.com",
        )
        for path in operands[2:3]:
            if not path.startswith("s3://"):
                sim.open_file(proc, _abspath(proc, path))
        sim.connect(
            proc, KNOWN_HOSTS["s3.eu-west-1.amazonaws.com"], 443, server_name="s3.eu-west-1.amazonaws.com"
        )
        return CommandResult()
    if name == "gzip" and operands:
        sim.open_file(proc, _abspath(proc, operands[0]))
        sim.open_file(proc, _abspath(proc, operands[0]) + ".gz", write=True, create=True, trunc=True)
        return CommandResult()
    if name == "pg_dump":
        host = args[args.index("-h") + 1] if "-h" in args[:-1] else "127.0.0.1"
        sim.connect(proc, _resolve(host), 5432)
        return CommandResult()
    if name in ("pg_isready", "redis-cli", "grpc-health-pro"):
        port = {"pg_isready": 5432, "redis-cli": 6379}.get(name, 50051)
        sim.connect(proc, "127.0.0.1", port)
        return CommandResult(stdout="PONG\n" if name == "redis-cli" else "")
    if name in ("id", "whoami", "hostname", "uname"):
        return CommandResult(stdout=_identity(proc, name, sim.world))
    if proc.exe_upper_layer and operands:
        # a dropped tool calling home: host:port operands
        target = operands[-1]
        host, _, port = target.rpartition(":")
        if port.isdigit() and host:
            fd = sim.connect(proc, _resolve(host), int(port))
            for newfd in (0, 1, 2):
                sim.dup2(proc, fd, newfd)
    return CommandResult()


def _download(sim: Simulator, proc: Process, args: list[str]) -> CommandResult:
    urls = [a for a in args if "://" in a]
    if not urls:
        return CommandResult(stderr=f"{proc.name}: no URL specified\n", exit_code=2)
    url = urls[0]
    scheme, _, rest = url.partition("://")
    hostport = rest.split("/", 1)[0]
    host, _, port = hostport.partition(":")
    sim.connect(
        proc,
        _resolve(host),
        int(port) if port else (443 if scheme == "https" else 80),
        nonblocking=True,
        server_name=host if not _is_ip(host) else None,
    )
    target = None
    for flag in ("-o", "-O", "--output"):
        if flag in args and args.index(flag) + 1 < len(args):
            target = args[args.index(flag) + 1]
    if target is None and proc.name == "wget" and "-O" not in args:
        target = posixpath.basename(rest.split("?", 1)[0]) or "index.html"
    if target is not None and target != "-":
        fd = sim.open_file(proc, _abspath(proc, target), write=True, create=True, trunc=True)
        if fd < 0:
            return CommandResult(
                stderr=f"{proc.name}: can't open '{target}': {_strerror(-fd)}\n", exit_code=1
            )
    return CommandResult()


def shell_script(proc: Process) -> str | None:
    if proc.name in ("sh", "bash", "ash", "dash", "zsh") and len(proc.args) >= 2 and proc.args[0] == "-c":
        return proc.args[1]
    return None


@dataclass(frozen=True, slots=True)
class _Op:
    """A shell operator token (as opposed to a word that merely looks like one, e.g. ``'|'``)."""

    text: str


_LIST_OPS = frozenset({";", "&&", "||", "&"})
_REDIRECT_OPS = frozenset({">", ">>", "<", ">&", "<&"})


def _tokens(script: str) -> list[str | _Op]:
    """Words (quotes removed) and operators of ``script``; newlines separate commands."""
    lexer = shlex.shlex(script.replace("\n", " ; "), posix=False, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    out: list[str | _Op] = []
    for token in lexer:
        if token and all(c in ";&|<>" for c in token):
            out.append(_Op(token))
        else:
            out.append("".join(shlex.split(token)) if any(q in token for q in "'\"") else token)
    return out


def _split_script(script: str) -> list[tuple[list[str | _Op], str]]:
    """Split on ``;``, ``&``, ``&&`` and ``||`` outside quotes: ``[(tokens, joiner-before)]``."""
    parts: list[tuple[list[str | _Op], str]] = []
    current: list[str | _Op] = []
    joiner = ";"
    for token in _tokens(script):
        if isinstance(token, _Op) and token.text in _LIST_OPS:
            if current:
                parts.append((current, joiner))
            current = []
            joiner = ";" if token.text in (";", "&") else token.text
        else:
            current.append(token)
    if current:
        parts.append((current, joiner))
    return parts


def _pipeline(tokens: list[str | _Op]) -> list[list[str | _Op]]:
    commands: list[list[str | _Op]] = [[]]
    for token in tokens:
        if isinstance(token, _Op) and token.text == "|":
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _redirections(tokens: list[str | _Op]) -> tuple[list[str], list[tuple[str, str]]]:
    """Words and file redirections of one simple command (``2>&1``-style fd duplication is dropped)."""
    plain: list[str] = []
    redirects: list[tuple[str, str]] = []
    it = iter(tokens)
    for token in it:
        if isinstance(token, _Op):
            target = next(it, None)
            if token.text in (">&", "<&"):
                if plain and plain[-1].isdigit():
                    plain.pop()
                continue
            if token.text in _REDIRECT_OPS and isinstance(target, str):
                if plain and plain[-1].isdigit() and token.text != "<":
                    plain.pop()  # "2> file": the fd number is not an argument
                redirects.append((token.text, target))
        else:
            plain.append(token)
    return plain, redirects


def _abspath(proc: Process, path: str) -> str:
    return posixpath.normpath(posixpath.join(proc.cwd, path))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host in KNOWN_HOSTS:
        return KNOWN_HOSTS[host]
    digest = sum((i + 1) * ord(c) for i, c in enumerate(host))
    return f"203.0.113.{digest % 250 + 2}"  # TEST-NET-3: never a real host


def _strerror(errno: int) -> str:
    return {13: "Permission denied", 30: "Read-only file system", 2: "No such file or directory"}.get(
        errno, f"errno {errno}"
    )


def _identity(proc: Process, name: str, world: World) -> str:
    if name == "id" and proc.args and proc.args[0] == "-u":
        return f"{proc.uid}\n"
    if name == "id":
        return f"uid={proc.uid}({proc.user}) gid={proc.uid}({proc.user}) groups={proc.uid}({proc.user})\n"
    if name == "whoami":
        return f"{proc.user}\n"
    if name == "hostname":
        container = proc.container
        return f"{container.pod_key.split('/', 1)[1]}\n" if container is not None else f"{proc.node}\n"
    return "Linux\n"


__all__ = ["API_SERVER_IP", "ERRNO", "KNOWN_HOSTS", "CommandResult", "run_command", "run_script"]
