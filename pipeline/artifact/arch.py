"""Lambda architectures and what they mean to Go and to an ELF header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Architecture = Literal["x86_64", "arm64"]


@dataclass(frozen=True)
class ArchSpec:
    """How one Lambda architecture maps onto Go's GOARCH and the ELF e_machine field."""

    lambda_name: str
    goarch: str
    elf_machine: int
    elf_name: str


ARCHITECTURES: dict[str, ArchSpec] = {
    "x86_64": ArchSpec("x86_64", "amd64", 62, "x86-64"),  # EM_X86_64
    "arm64": ArchSpec("arm64", "arm64", 183, "AArch64"),  # EM_AARCH64
}


def arch_spec(architecture: str) -> ArchSpec | None:
    """The spec for a Lambda architecture name, or None when Lambda has no such architecture."""
    return ARCHITECTURES.get(architecture)


def elf_machine_name(machine: int) -> str:
    """A readable name for an ELF e_machine value (for error messages)."""
    for spec in ARCHITECTURES.values():
        if spec.elf_machine == machine:
            return spec.elf_name
    return {3: "x86 (32-bit)", 40: "ARM (32-bit)", 243: "RISC-V"}.get(machine, f"e_machine {machine}")
