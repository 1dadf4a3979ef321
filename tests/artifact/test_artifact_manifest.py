"""Manifest round trip and every way a manifest can be malformed."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from pipeline.artifact.manifest import Manifest, hex_sha256, lambda_sha256, manifest_path_for
from pipeline.errors import InputError

SHA = hashlib.sha256(b"zip bytes").hexdigest()


def sample(**over) -> Manifest:
    values = dict(
        name="greeter", sha256=SHA, code_sha256=lambda_sha256(SHA), size=3_000_000,
        unzipped_size=8_000_000, architecture="x86_64", go_version="go1.26.8",
        commit="a" * 40, dirty=True, version="1.2.3", build_id="0123456789abcdef0123",
    )
    values.update(over)
    return Manifest(**values)


def test_lambda_sha256_is_base64_of_raw_digest():
    assert lambda_sha256(SHA) == base64.b64encode(hashlib.sha256(b"zip bytes").digest()).decode()


def test_round_trip_through_json_and_file(tmp_path):
    m = sample()
    assert Manifest.from_json(m.to_json()) == m
    p = tmp_path / "greeter-x.json"
    m.write(p)
    assert Manifest.load(p) == m
    assert p.read_text() == m.to_json()
    assert not list(tmp_path.glob("*.tmp"))


def test_json_is_stable_and_complete():
    text = sample().to_json()
    assert text.endswith("\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert set(data) == {
        "name", "sha256", "code_sha256", "size", "unzipped_size", "architecture", "go_version",
        "commit", "dirty", "version", "build_id", "handlers",
    }
    assert data["handlers"] is None
    assert data["dirty"] is True and data["size"] == 3_000_000


def test_names_and_paths():
    m = sample()
    assert m.sha12 == SHA[:12]
    assert m.stem == f"greeter-{SHA[:12]}"
    assert manifest_path_for(Path(f"dist/{m.stem}.zip")) == Path(f"dist/{m.stem}.json")


def test_frozen():
    with pytest.raises(FrozenInstanceError):
        sample().sha256 = "0" * 64  # type: ignore[misc]


def test_handlers_round_trip_as_a_sorted_list(tmp_path):
    m = sample(handlers=("api", "worker"))
    assert json.loads(m.to_json())["handlers"] == ["api", "worker"]
    p = tmp_path / "m.json"
    m.write(p)
    assert Manifest.load(p) == m and Manifest.load(p).handlers == ("api", "worker")


def test_manifest_written_before_handlers_existed_is_read_as_unknown():
    data = sample().to_dict()
    del data["handlers"]
    assert Manifest.from_dict(data).handlers is None
    assert Manifest.from_dict(data) == sample()


@pytest.mark.parametrize(
    "value", ["api", ["worker", "api"], ["api", "api"], ["api", 1], ["two words"], [""], {"api": 1}, 3],
)
def test_bad_handlers(value):
    with pytest.raises(InputError, match=r"manifest field 'handlers' must be null or a sorted list"):
        Manifest.from_dict(sample().to_dict() | {"handlers": value})


def test_unknown_keys_are_ignored():
    data = sample().to_dict() | {"future_field": 1}
    assert Manifest.from_dict(data) == sample()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sha256", "ABC", "64 lowercase hex"),
        ("sha256", SHA.upper(), "64 lowercase hex"),
        ("code_sha256", lambda_sha256(hashlib.sha256(b"x").hexdigest()), "does not match sha256"),
        ("size", "3000000", "non-negative integer"),
        ("size", -1, "non-negative integer"),
        ("size", True, "non-negative integer"),
        ("unzipped_size", 1.5, "non-negative integer"),
        ("dirty", "false", "true or false"),
        ("dirty", 0, "true or false"),
        ("architecture", "amd64", "one of arm64, x86_64"),
        ("name", "../evil", "letters, digits"),
        ("name", "", "non-empty string"),
        ("commit", None, "non-empty string"),
        ("version", 1, "non-empty string"),
        ("go_version", "", "non-empty string"),
        ("build_id", ["x"], "non-empty string"),
    ],
)
def test_bad_field_names_file_and_field(tmp_path, field, value, words):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(sample().to_dict() | {field: value}))
    with pytest.raises(InputError) as exc:
        Manifest.load(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: ")
    assert f"'{field}'" in msg and words in msg
    assert "\n" not in msg


@pytest.mark.parametrize("field", ["sha256", "dirty", "architecture", "build_id"])
def test_missing_field(tmp_path, field):
    data = sample().to_dict()
    del data[field]
    p = tmp_path / "m.json"
    p.write_text(json.dumps(data))
    with pytest.raises(InputError, match=rf"m\.json: manifest field '{field}' is missing"):
        Manifest.load(p)


def test_not_json(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match=r"m\.json: manifest is not valid JSON"):
        Manifest.load(p)


def test_not_an_object(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("[1, 2]")
    with pytest.raises(InputError, match=r"m\.json: manifest must be a JSON object, got list"):
        Manifest.load(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.json: manifest not found"):
        Manifest.load(tmp_path / "nope.json")


def test_not_utf8(tmp_path):
    p = tmp_path / "m.json"
    p.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputError, match=r"m\.json: cannot read manifest"):
        Manifest.load(p)


def test_long_bad_value_is_shortened(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(sample().to_dict() | {"version": 5, "commit": "x" * 5000, "name": 7}))
    with pytest.raises(InputError) as exc:
        Manifest.load(p)
    assert len(str(exc.value)) < 300


def test_hex_sha256_inverts_lambda_sha256_and_refuses_what_is_not_a_digest():
    digest = hashlib.sha256(b"bootstrap").hexdigest()
    assert hex_sha256(lambda_sha256(digest)) == digest
    assert hex_sha256(None) is None and hex_sha256("") is None
    assert hex_sha256("not base64!") is None
    assert hex_sha256(base64.b64encode(b"short").decode()) is None  # base64, but not 32 bytes
