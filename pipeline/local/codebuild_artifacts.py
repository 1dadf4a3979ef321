"""A CodeBuild action's output artifacts: the buildspec's `artifacts` files, zipped and uploaded to the
pipeline's artifact store as the project's service role, in UPLOAD_ARTIFACTS.

As CodeBuild reads them (docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.artifacts):
`files` (patterns relative to `base-directory`, default the source directory; `**/*` is every file below),
`discard-paths: yes` (store each file by its name only), and for an action with several output artifacts
`secondary-artifacts.<artifact name>` for each. The zip goes to the key CodePipeline chose for the artifact
(`codepipeline_actions`, carried in `X-Emulator-Codepipeline`). A pattern matching nothing is CodeBuild's
CLIENT_ERROR "no matching artifact paths found"; a PutObject the role may not make is the AccessDenied.
Not modelled: `exclude-paths`, `enable-symlinks`, `s3-prefix`, `name` (CodePipeline names the key anyway).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any


class ArtifactFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sections(spec_text: str, outputs: list[dict[str, str]]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(output artifact, its buildspec section) for each output; ArtifactFailure when one has none."""
    import yaml

    data = yaml.safe_load(spec_text) or {}
    primary = data.get("artifacts") if isinstance(data, dict) else None
    secondary = (primary or {}).get("secondary-artifacts") or {} if isinstance(primary, dict) else {}
    found = []
    for index, output in enumerate(outputs):
        section = secondary.get(output["name"]) if len(outputs) > 1 else None
        if section is None and (len(outputs) == 1 or index == 0):
            section = primary
        if not isinstance(section, dict) or not section.get("files"):
            raise ArtifactFailure("CLIENT_ERROR", f"no artifact files in the buildspec for output artifact "
                                                  f"{output['name']}")
        found.append((output, section))
    return found


def archive(src: Path, section: dict[str, Any]) -> bytes:
    """The zip of the files `section` names, below `src` (deterministic: sorted, fixed timestamps)."""
    base = (src / str(section.get("base-directory") or ".")).resolve()
    patterns = section["files"] if isinstance(section["files"], list) else [section["files"]]
    discard = str(section.get("discard-paths", "no")).lower() in ("yes", "true")
    files = sorted({p for pattern in patterns for p in base.glob(str(pattern)) if p.is_file()})
    if not files:
        raise ArtifactFailure("CLIENT_ERROR", f"no matching artifact paths found ({', '.join(map(str, patterns))})")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for path in files:
            info = zipfile.ZipInfo(path.name if discard else str(path.relative_to(base)), (1980, 1, 1, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            out.writestr(info, path.read_bytes())
    return buffer.getvalue()


def upload(s3: Any, spec_text: str, src: Path, outputs: list[dict[str, str]]) -> list[str]:
    """Zip and PutObject every output artifact (as the client's role); the s3:// URLs written."""
    from botocore.exceptions import ClientError

    written = []
    for output, section in sections(spec_text, outputs):
        body = archive(src, section)
        try:
            s3.put_object(Bucket=output["bucket"], Key=output["key"], Body=body)
        except ClientError as exc:
            raise ArtifactFailure("CLIENT_ERROR", str(exc)) from None
        written.append(f"s3://{output['bucket']}/{output['key']}")
    return written
