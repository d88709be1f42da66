"""Run model-written Python in a separate process the kernel confines.

Layers, outermost first (see chapter 8.2 for what each stops and what it does not):

* **namespaces** (``unshare``): no network, a private filesystem view with no ``/etc``,
  ``/home`` or application files, an own process tree; needs root or ``CAP_SYS_ADMIN``
  on the host (a container runtime's seccomp profile may forbid ``unshare``);
* **an unprivileged uid** with ``no_new_privs``: the process cannot regain anything;
* **resource limits**: CPU seconds, address space, file size, open files, processes;
* **a wall-clock timeout and an output cap** enforced from outside;
* **an audit hook** in the interpreter: a tripwire with clear errors, not a boundary.

Without namespaces (``isolation="process"``) only the last three layers remain, and the
program runs as the service's own user: acceptable for a developer laptop, not for
untrusted input in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from asyncio.subprocess import Process
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from chatbot.agents.tools import Tool, ToolContext, ToolError

HERE = Path(__file__).parent
Isolation = Literal["namespaces", "process"]


# [start:limits]
@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Per-run limits. Defaults suit data wrangling on a few MB, not numerical computing."""

    cpu_s: int = 2  # RLIMIT_CPU: SIGKILL after 2 s of CPU time
    wall_s: float = 5.0  # a sleeping or blocked program is killed from outside
    memory_bytes: int = 256 * 2**20  # RLIMIT_AS: virtual memory; the interpreter takes ~25 MB
    file_bytes: int = 2**20  # RLIMIT_FSIZE: largest file it may write
    work_bytes: int = 16 * 2**20  # tmpfs size of /work: all files together
    open_files: int = 32  # RLIMIT_NOFILE
    processes: int = 1  # RLIMIT_NPROC for its uid: itself only, so no fork and no threads
    output_bytes: int = 64 * 2**10  # stdout and stderr, each

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_CPU": self.cpu_s,
            "RLIMIT_AS": self.memory_bytes,
            "RLIMIT_FSIZE": self.file_bytes,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
            "RLIMIT_NPROC": self.processes,  # last: see sandbox_init.run_program
        }


# [end:limits]


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """What the program did, and how it ended."""

    stdout: str
    stderr: str
    exit_code: int | None  # 128 + N when killed by signal N; None if it never exited
    timed_out: bool
    output_truncated: bool
    isolation: Isolation
    elapsed_s: float

    @property
    def signal(self) -> str | None:
        """Name of the signal that killed it (SIGKILL for the CPU limit), if any."""
        if self.exit_code is not None and self.exit_code > 128:
            return signal.Signals(self.exit_code - 128).name
        return None


@functools.cache
def namespaces_available() -> bool:
    """Whether this host lets us build the namespace sandbox (root and a working unshare)."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        return False
    probe = [unshare, "--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# [start:sandbox]
class CodeSandbox:
    """Runs one Python program per call; nothing survives between calls."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        isolation: Isolation | None = None,
        audit_hook: bool = True,
        uid: int = 65534,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.isolation: Isolation = isolation or (
            "namespaces" if namespaces_available() else "process"
        )
        if self.isolation == "namespaces" and not namespaces_available():
            msg = "namespace isolation needs root and a working `unshare` on this host"
            raise RuntimeError(msg)
        self.audit_hook = audit_hook
        self.uid = uid  # one uid per concurrent sandbox in production: NPROC counts per uid

    async def run(self, code: str) -> SandboxResult:
        with tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
            program = Path(tmp) / "main.py"
            program.write_text(code, encoding="utf-8")
            argv = self._namespace_argv(Path(tmp), program)
            if self.isolation == "process":
                argv = self._process_argv(program)
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group, killed as one
                cwd=tmp,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
            assert process.stdout is not None and process.stderr is not None
            out, err = _Capped(self.limits.output_bytes), _Capped(self.limits.output_bytes)
            timed_out = False
            try:
                async with asyncio.timeout(self.limits.wall_s):
                    await asyncio.gather(
                        out.drain(process.stdout, process), err.drain(process.stderr, process)
                    )
                    await process.wait()
            except TimeoutError:
                timed_out = True
            finally:
                _kill(process)
                await process.wait()
            code_ = process.returncode
            exit_code = 128 - code_ if code_ is not None and code_ < 0 else code_
            return SandboxResult(
                out.text(),
                err.text(),
                exit_code,
                timed_out,
                out.overflowed or err.overflowed,
                self.isolation,
                time.monotonic() - started,
            )

    # [end:sandbox]

    # [start:argv]
    def _namespace_argv(self, tmp: Path, program: Path) -> list[str]:
        python = os.path.realpath(sys.executable)  # a venv's python is a symlink
        binds = ["/usr"]
        if not sys.base_prefix.startswith("/usr/"):
            binds.append(sys.base_prefix)  # pyenv, /opt/python, a container's /usr/local
        links: dict[str, str] = {}
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/", name)
            if path.is_symlink():
                links[name] = os.readlink(path)
            elif path.is_dir():
                binds.append(str(path))
        (tmp / "root").mkdir()
        config = {
            "root": str(tmp / "root"),
            "binds": binds,
            "links": links,
            "program": str(program),
            "guard": str(HERE / "sandbox_guard.py"),
            "python": python,
            "uid": self.uid,
            "rlimits": self.limits.rlimits(),
            "work_bytes": self.limits.work_bytes,
            "audit_hook": self.audit_hook,
        }
        unshare = shutil.which("unshare") or "unshare"
        namespaces = ["--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
        init = str(HERE / "sandbox_init.py")
        return [unshare, *namespaces, python, "-I", "-S", "-B", init, json.dumps(config)]

    def _process_argv(self, program: Path) -> list[str]:
        config = {"audit_hook": self.audit_hook, "rlimits": self.limits.rlimits()}
        guard = str(HERE / "sandbox_guard.py")
        return [sys.executable, "-I", "-S", "-B", guard, json.dumps(config), str(program)]

    # [end:argv]


class _Capped:
    """Reads a pipe to the end, keeping at most ``limit`` bytes; kills the writer past it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.overflowed = False

    async def drain(
        self, stream: asyncio.StreamReader, process: asyncio.subprocess.Process
    ) -> None:
        while chunk := await stream.read(65536):
            room = self.limit - len(self.data)
            self.data += chunk[:room]
            if len(chunk) > room:
                self.overflowed = True
                _kill(process)  # a print loop would otherwise fill memory or the wall clock
                return

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _kill(process: Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # it exited a moment ago
            os.killpg(process.pid, signal.SIGKILL)  # the group: unshare and what it started


class CodeArgs(BaseModel):
    """Run a short Python 3 program and return what it prints. Use it for data
    transformation and exact computation. No network, no packages beyond the standard
    library, no files except its own working directory, 2 seconds of CPU."""

    code: str = Field(max_length=20_000, description="A complete program; print() the result")


# [start:tool]
class CodeExecutorTool(Tool[CodeArgs]):
    """The model's program in the sandbox; a failure goes back as an error it can fix."""

    name = "run_python"
    Args = CodeArgs
    timeout_s: ClassVar[float] = 15.0  # above the sandbox's own wall clock
    requires_approval: ClassVar[bool] = False  # the sandbox, not a person, contains it

    def __init__(self, sandbox: CodeSandbox) -> None:
        self.sandbox = sandbox

    async def run(self, args: CodeArgs, ctx: ToolContext) -> str:
        result = await self.sandbox.run(args.code)
        output = result.stdout
        if result.output_truncated:
            output += "\n[output truncated: print less]"
        if result.timed_out:
            raise ToolError(f"Killed after {self.sandbox.limits.wall_s:g} s.\n{output}")
        if result.signal:
            raise ToolError(f"Killed by {result.signal} (CPU or memory limit).\n{output}")
        if result.exit_code != 0:
            raise ToolError(f"Exit code {result.exit_code}.\n{output}\n{result.stderr[-2000:]}")
        return output or "(no output)"


# [end:tool]
