"""Every sha the CLI prints can be typed back: prefixes on `promote --artifact` and `rollback --artifact/--to`,
resolved against what is staged or recorded, refused (exit 2, no write) when ambiguous or unknown."""

from __future__ import annotations

from helpers import promoter

BUCKET = "greeter-artifacts-444444444444-us-east-1"


def _fake_staged(*digests: str) -> None:
    """Objects as `stage` leaves them (zip + manifest), written by an observer: only their names matter here."""
    s3 = promoter("s3")  # the one principal the artifact key lets encrypt
    for digest in digests:
        for suffix in (".zip", ".json"):
            s3.put_object(Bucket=BUCKET, Key=f"artifacts/greeter/{digest}{suffix}", Body=b"{}")


def test_promote_and_rollback_take_the_prefixes_tables_show(world, built, built2):
    first = world.stage(built)
    world.ok("promote", "--to", "dev", "--artifact", first[:12])
    assert world.ledger("dev")[-1]["artifact"] == first
    second = world.stage(built2)
    world.ok("promote", "--to", "dev", "--artifact", second[:7].upper())
    assert world.ledger("dev")[-1]["artifact"] == second and world.live("dev", "111111111111")["Version"] == "2"
    world.ok("rollback", "--env", "dev", "--artifact", first[:8])
    assert world.ledger("dev")[-1]["artifact"] == first and world.live("dev", "111111111111")["Version"] == "1"
    code, _, err = world.cli("rollback", "--env", "dev", "--to", second[:12])  # the old name takes them too
    assert code == 0, err
    assert world.ledger("dev")[-1]["artifact"] == second


def test_ambiguous_and_unknown_prefixes_are_exit_2_with_no_write(world, built, calls):
    real = world.stage(built)
    one, two = "abcdef1234560" + "0" * 51, "abcdef1234561" + "1" * 51
    _fake_staged(one, two)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "ABCDEF1")
    assert code == 2 and err.count("\n") == 1, err
    assert (f"--artifact abcdef1: ambiguous: 2 of the staged artifacts start with it: {one[:13]}, {two[:13]} "
            "(give more characters)") in err
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "9999999")
    assert code == 2 and "--artifact 9999999: none of the staged artifacts starts with 9999999" in err
    code, doc = world.json("promote", "--to", "dev", "--artifact", "abcdef123456")
    assert code == 2 and doc["ok"] is False and doc["exit_code"] == 2 and "ambiguous" in doc["error"]
    # rollback resolves against what passed smoke in that env, not against what is staged
    code, _, err = world.cli("rollback", "--env", "dev", "--artifact", real[:10])
    assert code == 2 and f"none of the artifacts that passed smoke in dev starts with {real[:10]}" in err
    assert calls.writes == []
    # unique once long enough: resolved to the full digest, which the gates then judge (a fake: no checksum)
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "abcdef1234561")
    assert code == 3 and f"expected {two}" in err
