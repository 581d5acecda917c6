"""``python -m magbuilder …`` as real processes, without paying for the imports each time.

Every run is a process of its own, with its own working folder, environment, stdin (empty),
stdout, stderr and exit code, exactly as ``subprocess.run([sys.executable, "-m", "magbuilder",
…])`` gives; but it is forked from a parent that has imported magbuilder, WeasyPrint and pikepdf
once, as the build's own layout workers are. A table of 70 bad inputs otherwise spends most of its
time importing the same modules 70 times.

``WarmCLI.run`` is thread-safe: each thread gets a parent of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# The parent: imports, then forks one child per request line on stdin and answers with its
# exit code. The child makes itself a process group, so that a timeout kills what it started.
PARENT = r"""
import json, os, runpy, signal, sys, time

import magbuilder.build, magbuilder.checks, magbuilder.cli, magbuilder.ingest  # noqa: F401
import magbuilder.deliver, magbuilder.preflight, magbuilder.render.pdf  # noqa: F401

requests = sys.stdin.buffer
answers = os.fdopen(os.dup(1), "w")
for line in requests:
    request = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            for fd, path, flags in (
                (0, os.devnull, os.O_RDONLY),
                (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            ):
                os.dup2(os.open(path, flags, 0o600), fd)
            sys.argv = ["magbuilder", *request["args"]]
            try:
                runpy.run_module("magbuilder", run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + request["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = None
            break
        time.sleep(0.005)
    answers.write(json.dumps({"code": code}) + "\n")
    answers.flush()
"""


class WarmCLI:
    """Runs the command line in processes forked from warm parents (one per calling thread)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._parents: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def _parent(self) -> subprocess.Popen:
        parent = getattr(self._local, "parent", None)
        if parent is None or parent.poll() is not None:
            parent = subprocess.Popen(
                [sys.executable, "-c", PARENT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            with self._lock:
                self._parents.append(parent)
            self._local.parent = parent
        return parent

    def run(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """``magbuilder *args`` in ``cwd``; a run past ``timeout`` is killed (exit -9)."""
        command = [sys.executable, "-m", "magbuilder", *args]
        parent = self._parent()
        with tempfile.TemporaryDirectory() as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            request = {
                "args": list(args),
                "cwd": str(cwd),
                "env": dict(os.environ if env is None else env),
                "stdout": str(out),
                "stderr": str(err),
                "timeout": timeout,
            }
            assert parent.stdin is not None and parent.stdout is not None
            parent.stdin.write(json.dumps(request) + "\n")
            parent.stdin.flush()
            answer = parent.stdout.readline()
            if not answer:
                raise RuntimeError("the warm command-line parent died")
            code = json.loads(answer)["code"]
            stdout = out.read_text("utf-8", errors="replace") if out.exists() else ""
            stderr = err.read_text("utf-8", errors="replace") if err.exists() else ""
        if code is None:
            return subprocess.CompletedProcess(command, -9, stdout, f"timed out after {timeout} s")
        return subprocess.CompletedProcess(command, code, stdout, stderr)

    def close(self) -> None:
        with self._lock:
            for parent in self._parents:
                if parent.stdin:
                    parent.stdin.close()
                parent.wait(timeout=30)
            self._parents.clear()


_SHARED = WarmCLI()


def magbuilder(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m magbuilder *args`` in ``cwd``, in a process of its own forked warm."""
    return _SHARED.run(list(args), cwd, env, timeout)


def close_shared() -> None:
    """Let the warm parents go (the session's end)."""
    _SHARED.close()
