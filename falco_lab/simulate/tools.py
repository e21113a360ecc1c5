"""The tools the simulator knows: one registered unit per tool, playing the syscalls it makes.

After a process's ``execve``, :func:`run_command` looks its name up in :data:`TOOLS` and
runs the tool's handler: ``cat`` reads files, ``curl``/``wget`` connect and write, ``nc -e``
duplicates its socket onto stdio, package managers download and unpack...  A name no tool
claims (or a handler that declines, by returning None) gets the default behaviour: a
binary dropped into the container's upper layer that is given ``host:port`` calls home.
Outputs are simulated: only what the simulator knows (``id``, ``hostname``...).

Adding a tool is one function::

    @register_tool("dig", summary="resolves a name: one UDP packet to the cluster DNS")
    def _dig(sim, proc, args, operands):
        sim.connect(proc, "172.20.0.10", 53)
        return CommandResult(stdout="93.184.216.34\\n")

A handler receives the simulator, the process (already exec'd), its arguments and the
arguments that are not options; it returns a :class:`CommandResult`, or None to fall back
to the default.  A name registered twice is an error at import time.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from falco_lab.errors import FalcoLabError
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


#: A tool's handler: ``(simulator, process, args, operands) -> result`` (None: use the default).
ToolHandler = Callable[["Simulator", Process, list[str], list[str]], "CommandResult | None"]


class ToolRegistryError(FalcoLabError):
    """A tool name registered twice, or a registration without a name."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A registered simulated tool: the names it answers to, what it does, its handler."""

    names: tuple[str, ...]
    summary: str
    run: ToolHandler


#: Command name (``proc.name``) -> the tool that plays it.
TOOLS: dict[str, Tool] = {}


def register_tool(*names: str, summary: str) -> Callable[[ToolHandler], ToolHandler]:
    """Register the decorated function as the handler of the tools called ``names``.

    Raises
    ------
    ToolRegistryError
        When no name is given or a name already has a tool.
    """
    if not names:
        raise ToolRegistryError("register_tool needs at least one command name")

    def register(handler: ToolHandler) -> ToolHandler:
        tool = Tool(tuple(names), summary, handler)
        taken = [name for name in names if name in TOOLS]
        if taken:
            raise ToolRegistryError(
                f"simulated tool(s) {', '.join(taken)} already registered by "
                f"{TOOLS[taken[0]].run.__module__}.{TOOLS[taken[0]].run.__qualname__}"
            )
        for name in names:
            TOOLS[name] = tool
        return handler

    return register


def run_command(sim: Simulator, proc: Process) -> CommandResult:
    """The syscalls a command makes after its execve: its registered tool's, or the default.

    The default: a binary in the container's upper layer (dropped after the image was
    built) whose last operand is ``host:port`` connects there and duplicates the socket
    onto stdin, stdout and stderr (a reverse shell); anything else does nothing.
    """
    args = list(proc.args)
    operands = [a for a in args if not a.startswith("-")]
    tool = TOOLS.get(proc.name)
    if tool is not None:
        result = tool.run(sim, proc, args, operands)
        if result is not None:
            return result
    if proc.exe_upper_layer and operands:
        target = operands[-1]
        host, _, port = target.rpartition(":")
        if port.isdigit() and host:
            fd = sim.connect(proc, _resolve(host), int(port))
            for newfd in (0, 1, 2):
                sim.dup2(proc, fd, newfd)
    return CommandResult()


# -- the built-in tools ------------------------------------------------------------


@register_tool("cat", "head", "tail", "grep", "less", "md5sum", "sha256sum", summary="read files")
def _read_files(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    files = operands[1:] if proc.name == "grep" else operands
    code = 0
    err = ""
    for path in files:
        fd = sim.open_file(proc, _abspath(proc, path))
        if fd < 0:
            code = 1
            err += f"{proc.name}: can't open '{path}': {strerror(-fd)}\n"
    return CommandResult(stderr=err, exit_code=code)


@register_tool("curl", "wget", summary="connect to the URL's host (non-blocking), write the download")
def _download(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
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
            return CommandResult(stderr=f"{proc.name}: can't open '{target}': {strerror(-fd)}\n", exit_code=1)
    return CommandResult()


@register_tool("nc", "ncat", summary="connect to host port; with -e the socket becomes stdio")
def _netcat(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult | None:
    if len(operands) < 2 or not operands[1].isdigit():
        return None
    fd = sim.connect(proc, _resolve(operands[0]), int(operands[1]))
    if "-e" in args:
        for newfd in (0, 1, 2):
            sim.dup2(proc, fd, newfd)
    return CommandResult()


@register_tool("touch", summary="create files")
def _touch(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    for path in operands:
        sim.open_file(proc, _abspath(proc, path), write=True, create=True)
    return CommandResult()


@register_tool("cp", summary="read the source, write the target")
def _copy(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult | None:
    if len(operands) < 2:
        return None
    sim.open_file(proc, _abspath(proc, operands[0]))
    fd = sim.open_file(proc, _abspath(proc, operands[-1]), write=True, create=True, trunc=True)
    return CommandResult(exit_code=0 if fd >= 0 else 1)


@register_tool("chmod", summary="change file modes")
def _chmod(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult | None:
    if len(operands) < 2:
        return None
    mode = operands[0] if operands[0].isdigit() else "0755"
    for path in operands[1:]:
        sim.chmod(proc, _abspath(proc, path), mode.rjust(4, "0"))
    return CommandResult()


@register_tool("kubectl", summary="connect to the Kubernetes API server")
def _kubectl(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    sim.connect(proc, API_SERVER_IP, 443)
    return CommandResult()


@register_tool("apt-get", "apt", summary="update: fetch the index; install: download and unpack with dpkg")
def _apt(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult | None:
    if "update" in args:
        sim.connect(proc, KNOWN_HOSTS["deb.debian.org"], 80, server_name="deb.debian.org")
        sim.open_file(
            proc,
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
            write=True,
            create=True,
            trunc=True,
        )
        return CommandResult()
    if "install" in args:
        sim.connect(proc, KNOWN_HOSTS["deb.debian.org"], 80, server_name="deb.debian.org")
        dpkg = sim.spawn(proc, ["/usr/bin/dpkg", "--status-fd", "44", "--unpack", "--auto-deconfigure"])
        for package in [a for a in operands if a != "install"]:
            sim.open_file(dpkg, f"/var/lib/dpkg/info/{package}.list", write=True, create=True, trunc=True)
            sim.open_file(dpkg, f"/usr/bin/{package}.dpkg-new", write=True, create=True, trunc=True)
        sim.exit(dpkg, 0)
        return CommandResult()
    return None


@register_tool("pip", "pip3", summary="download from PyPI, write into site-packages")
def _pip(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
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


@register_tool("aws", summary="STS, then S3 (reading a local file to upload)")
def _aws(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
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


@register_tool("gzip", summary="read a file, write file.gz")
def _gzip(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult | None:
    if not operands:
        return None
    sim.open_file(proc, _abspath(proc, operands[0]))
    sim.open_file(proc, _abspath(proc, operands[0]) + ".gz", write=True, create=True, trunc=True)
    return CommandResult()


@register_tool("pg_dump", summary="connect to PostgreSQL (-h host, default localhost)")
def _pg_dump(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    host = args[args.index("-h") + 1] if "-h" in args[:-1] else "127.0.0.1"
    sim.connect(proc, _resolve(host), 5432)
    return CommandResult()


#: Local port each health-check tool probes.
_PROBE_PORTS = {"pg_isready": 5432, "redis-cli": 6379, "grpc-health-pro": 50051}


@register_tool(*_PROBE_PORTS, summary="health probes: connect to the local port")
def _probe(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    sim.connect(proc, "127.0.0.1", _PROBE_PORTS[proc.name])
    return CommandResult(stdout="PONG\n" if proc.name == "redis-cli" else "")


@register_tool("id", "whoami", "hostname", "uname", summary="print who and where the process is")
def _identity_tool(sim: Simulator, proc: Process, args: list[str], operands: list[str]) -> CommandResult:
    return CommandResult(stdout=_identity(proc, proc.name, sim.world))


# -- helpers -----------------------------------------------------------------------


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


def strerror(errno: int) -> str:
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


__all__ = [
    "API_SERVER_IP",
    "ERRNO",
    "KNOWN_HOSTS",
    "TOOLS",
    "CommandResult",
    "Tool",
    "ToolHandler",
    "ToolRegistryError",
    "register_tool",
    "run_command",
    "strerror",
]
