"""How to start a function's runtime: the command line for its runtime/architecture, and its environment.

The environment is built from nothing (never copied from this process), so the host's AWS
credentials, profile and endpoint never reach function code; only what Lambda itself sets (the
execution role's session keys among them, `execrole.py`), the emulator's endpoint and CA bundle,
and the function's configured variables do.
"""

from __future__ import annotations

import stat
import sys
import time
import uuid
from pathlib import Path

from pipeline.local import elf
from pipeline.local.resolve import FunctionCode
from pipeline.local.runtime_api import Outcome, error_outcome

PYTHON_RUNTIME = Path(__file__).with_name("pyruntime.py")
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin:/opt/bin",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}


class LaunchError(Exception):
    """The function cannot be started; carries the Unhandled outcome Lambda would return."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.payload.decode("utf-8", "replace"))
        self.outcome = outcome


def _fail(error_type: str, message: str) -> LaunchError:
    return LaunchError(error_outcome(error_type, message))


def command(code: FunctionCode, task_root: Path) -> list[str]:
    """argv for the runtime process; raises LaunchError the way Lambda's init would fail."""
    if code.package_type != "Zip":
        raise _fail("Runtime.InvalidEntrypoint", "the emulator runs zip functions only, not container images")
    if code.runtime.startswith("python3"):
        return [sys.executable, "-u", str(PYTHON_RUNTIME)]
    if code.runtime.startswith("provided"):
        entry = task_root / "bootstrap"
    elif code.runtime == "go1.x":
        entry = task_root / (code.handler or "main")
    else:
        raise _fail("Runtime.InvalidRuntime", f"the emulator cannot run runtime {code.runtime or '(none)'!r}"
                    ": it runs provided.*, go1.x and python3.* functions")
    if not entry.is_file():
        raise _fail("Runtime.InvalidEntrypoint",
                    f"Couldn't find valid bootstrap(s): [{entry.name} in the zip root]")
    if not entry.stat().st_mode & stat.S_IXUSR:
        raise _fail("Runtime.InvalidEntrypoint", f"fork/exec {entry.name}: permission denied "
                    "(the file is not executable in the zip)")
    binary_arch = elf.elf_architecture(entry)
    if binary_arch is None:  # a script with a #! line: the kernel picks the interpreter
        return [str(entry)]
    if binary_arch != code.architecture:
        raise _fail("Runtime.InvalidEntrypoint", f"fork/exec {entry.name}: exec format error "
                    f"({entry.name} is a Linux {binary_arch} binary but the function's architecture is "
                    f"{code.architecture})")
    if binary_arch == elf.host_architecture():
        return [str(entry)]
    qemu_name, qemu_path = elf.qemu_for(binary_arch)
    if qemu_path is None:
        raise _fail("Runtime.InvalidEntrypoint",
                    f"{entry.name} is a Linux {binary_arch} binary and this host is "
                    f"{elf.host_architecture()}: running it needs {qemu_name} on PATH, which was not found")
    return [qemu_path, str(entry)]


def log_stream_name(version: str) -> str:
    return f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{version}]{uuid.uuid4().hex}"


def environment(code: FunctionCode, runtime_api: str, task_root: Path, tmp_dir: Path,
                log_stream: str, credentials: dict[str, str] | None = None) -> dict[str, str]:
    from pipeline.local import execrole

    env = dict(_BASE_ENV)
    env.update(execrole.endpoint_environment())  # where the emulator is; a configured variable may override it
    env.update(code.environment)
    env.update(credentials or {})  # reserved on Lambda: a configured AWS_ACCESS_KEY_ID never wins
    env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": code.name,
        "AWS_LAMBDA_FUNCTION_VERSION": code.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(code.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{code.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": code.region,
        "AWS_DEFAULT_REGION": code.region,
        "_HANDLER": code.handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(PYTHON_RUNTIME.parent),
        "TMPDIR": str(tmp_dir),
        "TZ": ":UTC",
    })
    if code.runtime.startswith("python3"):
        env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{code.runtime}"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
