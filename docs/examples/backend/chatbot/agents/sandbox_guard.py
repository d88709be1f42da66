"""Runs inside the sandbox, before the untrusted code: limits, then an audit hook, then the code.

Started as ``python -I -S -B sandbox_guard.py <limits.json> <main.py>``; imports nothing
from the application. The audit hook (PEP 578) refuses the events untrusted code uses
to reach outside its directory: opening other files, sockets, new processes, ``ctypes``.
PEP 578 is explicit that audit hooks are *not* a sandbox: they see only what CPython
reports, and a memory-safety bug reachable from Python bypasses them. They are the
tripwire and the clear error message; the kernel (namespaces, rlimits, a non-root uid)
is the boundary.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# [start:guard]
BLOCKED_EVENTS = frozenset(
    {
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.symlink",  # a link from /work to /etc/passwd would pass the path check
        "os.link",
        "subprocess.Popen",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.cdata",
    }
)
BLOCKED_MODULES = frozenset({"_posixsubprocess", "_ctypes", "ctypes", "_socket"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def make_hook(workdir: str, readable: tuple[str, ...]) -> Callable[[str, tuple[Any, ...]], None]:
    def inside(path: str, roots: tuple[str, ...]) -> bool:
        full = os.path.normpath(os.path.join(os.getcwd(), path))
        return any(full == root or full.startswith(root + os.sep) for root in roots)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in BLOCKED_EVENTS:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0].split(".")[0] in BLOCKED_MODULES:
            raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
        if event == "open" and isinstance(args[0], str | bytes):
            path = os.fsdecode(args[0])
            mode, flags = args[1] or "r", args[2] or 0
            writes = any(c in mode for c in "wax+") or flags & WRITE_FLAGS
            if not inside(path, (workdir,) if writes else (workdir, *readable)):
                raise PermissionError(f"sandbox: no access to {path}")
        listing = event in ("os.listdir", "os.scandir", "os.chdir") and args[0] not in (None, ".")
        if listing and not inside(os.fsdecode(args[0]), (workdir, *readable)):
            raise PermissionError(f"sandbox: no access to {args[0]}")

    return hook


def apply_limits(limits: dict[str, int]) -> None:
    """Kernel limits for this process; the namespace launcher sets them itself instead."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def main() -> None:
    config = json.loads(sys.argv[1])
    path = sys.argv[2]
    with open(path, encoding="utf-8") as source:
        code = compile(source.read(), "main.py", "exec")
    if config.get("rlimits"):
        apply_limits(config["rlimits"])
    workdir = os.path.dirname(os.path.abspath(path))
    if config.get("audit_hook", True):
        readable = tuple(p for p in sys.path if p and os.path.isabs(p))
        sys.addaudithook(make_hook(workdir, readable))  # cannot be removed afterwards
    sys.argv = ["main.py"]
    exec(code, {"__name__": "__main__", "__builtins__": __builtins__})


# [end:guard]

if __name__ == "__main__":
    main()
