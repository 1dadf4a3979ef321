"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import io
import zipfile

REGION = "us-east-1"
# An execution role's trust policy: only Lambda may assume it (the emulator refuses a function whose role it is not).
LAMBDA_TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')


def make_zip(files: dict[str, bytes | str], executable: tuple[str, ...] = ("bootstrap",)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_ready(lam, name: str, qualifier: str | None = None, timeout: float = 30.0) -> dict:
    """What a careful AWS client does after a create or an update: poll until Active and Successful."""
    import time

    params = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    delay, deadline = 0.01, time.monotonic() + timeout
    while True:
        config = lam.get_function_configuration(**params)
        if config.get("State") == "Active" and config.get("LastUpdateStatus") in (None, "Successful"):
            return config
        assert time.monotonic() < deadline, f"{name} still {config.get('State')}/{config.get('LastUpdateStatus')}"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def until(check, timeout: float = 60.0):
    """`check()`'s first truthy answer, looked for every 50 ms; AssertionError after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
