"""PID 1 of the sandbox: builds an empty filesystem view, drops privileges, runs the guard.

Started by ``unshare --net --mount --pid --ipc --uts --fork --kill-child`` as
``python -I -S -B sandbox_init.py <config.json>``, so it is root *inside* fresh
namespaces: no network interface but a loopback that is down, a private mount table,
its own process tree. It then

1. mounts a small tmpfs as the new root, with read-only bind mounts of the directories
   the interpreter needs (``/usr`` and the Python installation) and nothing else: no
   ``/etc``, no ``/home``, no ``/proc``, no application code or secrets;
2. mounts a size-capped tmpfs at ``/work`` holding only the program to run;
3. forks the program's process, which chroots, sets ``no_new_privs``, switches to an
   unprivileged uid, sets its resource limits, and execs the guard;
4. waits for it and exits with its status (128 + signal if it was killed).

Nothing here is imported by the application; it imports only the standard library.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import sys
from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
_libc = ctypes.CDLL(None, use_errno=True)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    result = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        flags,
        data.encode() if data else None,
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


# [start:filesystem]
def build_root(config: dict[str, Any]) -> str:
    """A new root holding only read-only system directories and a private /work."""
    root = str(config["root"])
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # our mounts never propagate to the host
    mount("sandbox", root, "tmpfs", MS_NOSUID, "size=1m,mode=755")
    for path in config["binds"]:
        target = root + path
        os.makedirs(target, exist_ok=True)
        mount(path, target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for name, link in config["links"].items():
        os.symlink(link, f"{root}/{name}")  # /bin -> usr/bin on merged-/usr systems
    os.makedirs(f"{root}/dev")
    for device in ("null", "zero", "urandom"):
        open(f"{root}/dev/{device}", "w").close()
        mount(f"/dev/{device}", f"{root}/dev/{device}", None, MS_BIND)
    work = f"{root}/work"
    os.makedirs(work)
    mount("work", work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['work_bytes']},mode=700")
    shutil.copy(str(config["program"]), f"{work}/main.py")
    uid = int(config["uid"])
    os.chown(work, uid, uid)
    os.chown(f"{work}/main.py", uid, uid)
    os.makedirs(f"{root}/sandbox")
    shutil.copy(str(config["guard"]), f"{root}/sandbox/guard.py")  # root-owned, read-only
    return root


# [end:filesystem]


# [start:drop]
def run_program(config: dict[str, Any], root: str) -> int:
    """Fork the program, drop everything in the child, exec; return its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os.chroot(root)
            os.chdir("/work")
            if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
            uid = int(config["uid"])
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)  # after this, nothing can be undone: no capabilities left
            for name, value in config["rlimits"].items():
                # RLIMIT_NPROC last and after setuid: set earlier, it would count the
                # launcher's processes or make setuid itself fail.
                resource.setrlimit(getattr(resource, name), (value, value))
            python = str(config["python"])
            guard_config = json.dumps({"audit_hook": config["audit_hook"]})
            env = {"PATH": "/usr/bin", "HOME": "/work", "TMPDIR": "/work", "LANG": "C.UTF-8"}
            argv = [python, "-I", "-S", "-B", "/sandbox/guard.py", guard_config, "/work/main.py"]
            os.execve(python, argv, env)
        except BaseException as exc:  # never return into the launcher's code
            print(f"sandbox setup failed: {exc}", file=sys.stderr)
            os._exit(125)
    while True:  # as PID 1, also reap anything the program orphaned
        waited, status = os.waitpid(-1, 0)
        if waited == pid:
            return os.waitstatus_to_exitcode(status)


# [end:drop]


def main() -> None:
    config = json.loads(sys.argv[1])
    try:
        root = build_root(config)
    except OSError as exc:
        print(f"sandbox setup failed: {exc}", file=sys.stderr)
        sys.exit(125)
    code = run_program(config, root)
    sys.exit(128 - code if code < 0 else code)  # killed by signal N: 128 + N, like a shell


if __name__ == "__main__":
    main()
