"""Which CPU a Linux executable is for, and how to run it on this host (qemu user mode).

Lambda runs an arm64 function on Graviton; here the host may be x86_64 (or the reverse).
Reading the ELF header lets the emulator fail like Lambda does for a binary built for the wrong
architecture, and run a foreign one through `qemu-<arch>-static` when that is installed.
"""

from __future__ import annotations

import platform
import shutil
import struct
from pathlib import Path

_MACHINES = {62: "x86_64", 183: "arm64"}
QEMU = {"arm64": "qemu-aarch64-static", "x86_64": "qemu-x86_64-static"}


def elf_architecture(path: Path) -> str | None:
    """"x86_64", "arm64", "e_machine=N" for another CPU, or None when not an ELF file."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = "<" if header[5] == 1 else ">"
    (machine,) = struct.unpack(order + "H", header[18:20])
    return _MACHINES.get(machine, f"e_machine={machine}")


def host_architecture() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def qemu_for(architecture: str) -> tuple[str, str | None]:
    """(binary name, its path on PATH or None) of the user-mode emulator for `architecture`."""
    name = QEMU.get(architecture, f"qemu-{architecture}-static")
    return name, shutil.which(name)
