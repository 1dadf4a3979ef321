"""`pipeline build`, `stage` and `artifacts` through the CLI against the emulator."""

from __future__ import annotations

import json
import shutil

from helpers import promoter, without_bucket_policy

from pipeline.cli import main

BUCKET = "greeter-artifacts-444444444444-us-east-1"


def _tooling_s3():
    return promoter("s3")


def _bootstrap_tooling(capsys) -> None:
    """The real tooling stack: the bucket, its key and the promoter that stages."""
    assert main(["bootstrap", "--tooling"]) == 0, capsys.readouterr().err
    capsys.readouterr()


def _copy_artifact(built, envdir):
    zip_path, manifest = built
    dist = envdir.parent / "dist"
    dist.mkdir(exist_ok=True)
    shutil.copy(zip_path, dist / zip_path.name)
    shutil.copy(zip_path.with_suffix(".json"), dist / zip_path.with_suffix(".json").name)
    return dist / zip_path.name, manifest


def test_stage_uploads_once_then_costs_one_call(aws, envdir, built, calls, capsys):
    _bootstrap_tooling(capsys)
    zip_path, manifest = _copy_artifact(built, envdir)
    assert main(["--output", "json", "stage"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["artifact"] == manifest.sha256 and doc["uploaded"] is True
    assert doc["key"] == f"artifacts/greeter/{manifest.sha256}.zip"

    head = _tooling_s3().head_object(Bucket=BUCKET, Key=doc["key"], ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == manifest.code_sha256
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(":444444444444:alias/greeter-artifacts")
    assert head["ContentLength"] == zip_path.stat().st_size

    calls.clear()
    assert main(["--output", "json", "stage", str(zip_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["uploaded"] is False
    assert calls.without_sts() == [("s3", "HeadObject")]  # dedup: one HEAD, zero bytes uploaded
    assert calls.writes == []


def test_artifacts_lists_newest_first_with_who_and_commit(aws, envdir, built, capsys):
    _bootstrap_tooling(capsys)
    _copy_artifact(built, envdir)
    assert main(["stage"]) == 0
    out = capsys.readouterr().out
    assert f"artifact id: {built[1].sha256}" in out
    assert main(["--output", "json", "artifacts"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [row] = doc["artifacts"]
    assert row["sha256"] == built[1].sha256 and row["commit"] == built[1].commit
    assert row["staged_by"].startswith("arn:aws:sts::444444444444:assumed-role/pipeline-promoter/")


def test_replaced_bytes_are_detected_on_restage(aws, envdir, built, capsys):
    _bootstrap_tooling(capsys)
    zip_path, manifest = _copy_artifact(built, envdir)
    assert main(["stage"]) == 0
    _tooling_s3().put_object(Bucket=BUCKET, Key=f"artifacts/greeter/{manifest.sha256}.zip", Body=b"evil",
                             ChecksumAlgorithm="SHA256")
    capsys.readouterr()
    assert main(["stage", str(zip_path)]) == 1
    err = capsys.readouterr().err
    assert f"expected {manifest.sha256}" in err and "replaced after staging" in err
    import hashlib

    assert hashlib.sha256(b"evil").hexdigest() in err


def test_bad_artifact_exits_2_without_any_aws_call(aws, envdir, calls, capsys):
    bad = envdir.parent / "greeter-000000000000.zip"
    bad.write_bytes(b"not a zip")
    (envdir.parent / "greeter-000000000000.json").write_text("{}")
    assert main(["stage", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "greeter-000000000000" in err
    assert calls.calls == []


def test_missing_manifest_and_missing_dist(aws, envdir, built, calls, capsys):
    assert main(["stage"]) == 2
    assert "no greeter-*.zip artifact: run `pipeline build` first" in capsys.readouterr().err
    zip_path, _ = _copy_artifact(built, envdir)
    zip_path.with_suffix(".json").unlink()
    assert main(["stage"]) == 2
    assert "manifest not found beside" in capsys.readouterr().err
    assert calls.calls == []


def test_missing_tooling_stack_says_bootstrap(aws, envdir, built, capsys):
    _copy_artifact(built, envdir)
    assert main(["stage"]) == 1
    err = capsys.readouterr().err
    assert "assume role arn:aws:iam::444444444444:role/pipeline-promoter: AccessDenied" in err
    assert "run `pipeline bootstrap --tooling` first; it creates this role" in err


def test_missing_bucket_says_bootstrap(aws, envdir, built, capsys):
    _bootstrap_tooling(capsys)
    _copy_artifact(built, envdir)
    with without_bucket_policy(BUCKET) as s3:  # someone deleted the bucket (objects and all)
        for version in s3.list_object_versions(Bucket=BUCKET).get("Versions", []):
            s3.delete_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
        s3.delete_bucket(Bucket=BUCKET)
        assert main(["stage"]) == 1
        assert "artifact bucket greeter-artifacts-444444444444-us-east-1 not found in tooling account 444444444444: " \
               "run `pipeline bootstrap --tooling` first" in capsys.readouterr().err
        s3.create_bucket(Bucket=BUCKET)  # for the policy to go back on


def test_build_command_writes_zip_and_manifest(envdir, capsys):
    from helpers import REPO

    assert main(["--output", "json", "build", "--skip-tests", "--version", "9.9.9", "--go-dir",
                 str(REPO / "go-function")]) == 0
    doc = json.loads(capsys.readouterr().out)
    manifest = doc["manifest"]
    assert manifest["version"] == "9.9.9" and manifest["architecture"] == "x86_64"
    assert (envdir.parent / doc["zip"]).is_file()
    assert (envdir.parent / doc["zip"]).with_suffix(".json").is_file()
