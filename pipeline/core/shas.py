"""Artifact digests as people type them back: a unique prefix of the 64 hex characters.

Every table prints 12 characters of a sha256; every flag that takes one accepts any prefix of at
least `MIN_PREFIX` characters and resolves it against what is actually there (the staged
artifacts for `promote`, the env's passed records for `rollback`). Pure: the caller reads the
candidates (observe), this decides which one is meant or refuses with the candidates (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.errors import InputError

MIN_PREFIX = 7  # as git: short enough to type, long enough to be unique in practice
SHOWN = 12  # what every table prints
FULL = 64
_HEX = re.compile(r"^[0-9a-f]+$")


def normalise(value: str) -> str:
    """A digest or a prefix of one, lower case; ValueError (with the reason) for anything else."""
    text = value.strip().lower()
    shown = value if len(value) <= 80 else value[:77] + "..."
    if not _HEX.match(text) or len(text) > FULL:
        raise ValueError(f"expected a sha256 or a prefix of one (at least {MIN_PREFIX} of its 64 hex characters), "
                         f"got {shown!r}")
    if len(text) < MIN_PREFIX:
        raise ValueError(f"{shown!r} is too short: give at least {MIN_PREFIX} hex characters of the sha256 "
                         f"(tables show {SHOWN})")
    return text


def is_full(value: str) -> bool:
    return len(value) == FULL


def short(digest: str, others: Iterable[str] = ()) -> str:
    """`digest` cut to `SHOWN` characters, or longer where another digest shares that much."""
    length = SHOWN
    for other in others:
        if other == digest:
            continue
        common = next((i for i, (a, b) in enumerate(zip(digest, other, strict=False)) if a != b),
                      min(len(digest), len(other)))
        length = max(length, common + 1)
    return digest[:min(length, FULL)]


def resolve(prefix: str, known: Iterable[str], flag: str, among: str) -> str:
    """The one digest of `known` that starts with `prefix` (already normalised).

    `among` says where the candidates came from, in the plural, for the error lines ("staged artifacts",
    "artifacts that passed smoke in test"). No match or several: InputError (exit 2), which the
    caller raises before any write.
    """
    candidates = sorted({k for k in known if k.startswith(prefix)})
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(f"{flag} {prefix}: none of the {among} starts with {prefix}")
    shown = [short(c, candidates) for c in candidates]
    raise InputError(f"{flag} {prefix}: ambiguous: {len(candidates)} of the {among} start with it: "
                     f"{', '.join(shown)} (give more characters)")
