"""What commands do inside the simulated nodes: a small shell and the syscalls of known tools.

:func:`run_script` runs a shell script the way ``sh -c`` would: each external command is
a child process of the shell (one ``execve``), builtins run inside the shell, and
redirections make the shell open files.  Each external command then plays the syscalls
its tool makes (:func:`falco_lab.simulate.tools.run_command`, one registered unit per tool).
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from falco_lab.simulate.model import Process
from falco_lab.simulate.tools import CommandResult, run_command, strerror

if TYPE_CHECKING:  # pragma: no cover
    from falco_lab.simulate.actions import Simulator

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
        for tokens in _pipeline(segment):
            words, redirects = _redirections(tokens)
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
                return CommandResult(stderr=f"sh: can't create {target}: {strerror(-fd)}\n", exit_code=1)
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


__all__ = ["run_script", "shell_script"]
