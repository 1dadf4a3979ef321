"""Typed-back digests (core.shas): syntax, unique prefix, ambiguity, unknown; no AWS."""

from __future__ import annotations

import pytest

from pipeline.core import shas
from pipeline.errors import InputError

A = "0123456789ab" + "c" * 52
B = "0123456789ab" + "d" * 52  # shares 12 characters with A
C = "fedcba9" + "0" * 57


def test_normalise_accepts_a_prefix_of_seven_to_sixty_four_hex_characters():
    assert shas.normalise("  0123456ABC ") == "0123456abc"
    assert shas.normalise(A.upper()) == A
    with pytest.raises(ValueError, match="too short: give at least 7 hex characters"):
        shas.normalise("012345")
    with pytest.raises(ValueError, match="expected a sha256 or a prefix of one"):
        shas.normalise("0123456z")
    with pytest.raises(ValueError, match="expected a sha256 or a prefix of one"):
        shas.normalise(A + "0")


def test_a_unique_prefix_resolves_to_its_digest():
    assert shas.resolve("fedcba9", [A, B, C], "--artifact", "staged artifacts") == C
    assert shas.resolve(A[:13], [A, B, C], "--artifact", "staged artifacts") == A
    assert shas.resolve(A, [A, A], "--artifact", "staged artifacts") == A  # the same digest twice is one


def test_an_ambiguous_prefix_names_every_candidate_long_enough_to_tell_them_apart():
    with pytest.raises(InputError) as caught:
        shas.resolve("0123456", [A, B, C], "--artifact", "staged artifacts")
    assert caught.value.exit_code == 2
    assert caught.value.message == ("--artifact 0123456: ambiguous: 2 of the staged artifacts start with it: "
                                    f"{A[:13]}, {B[:13]} (give more characters)")


def test_an_unknown_prefix_is_named():
    with pytest.raises(InputError) as caught:
        shas.resolve("abcdef0", [A, C], "--to", "artifacts that passed smoke in test")
    assert caught.value.message == "--to abcdef0: none of the artifacts that passed smoke in test starts with abcdef0"


def test_short_is_twelve_unless_another_digest_shares_more():
    assert shas.short(C, [A, B]) == C[:12]
    assert shas.short(A, [B]) == A[:13]
