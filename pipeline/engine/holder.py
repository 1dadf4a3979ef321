"""Who holds a promotion lock, and whether that holder is provably gone (its process died here)."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any


def holder_info(actor: str) -> dict[str, Any]:
    # `run` tells two holders apart even in one process (threads), so no two started records are equal.
    info: dict[str, Any] = {"actor": actor, "host": socket.gethostname(), "pid": os.getpid(),
                            "run": uuid.uuid4().hex}
    if os.environ.get("CODEBUILD_BUILD_ID"):
        info["build_id"] = os.environ["CODEBUILD_BUILD_ID"]
    return info


def holder_is_dead(holder: dict[str, Any]) -> bool:
    """True only when the holder ran on this host and its process no longer exists."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    if holder["pid"] == os.getpid():
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
