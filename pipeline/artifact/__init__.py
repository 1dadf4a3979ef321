"""The artifact: build the Go function, pack a deterministic zip, describe it, check it.

One zip, identified by its sha256, is the unit of trust promoted through every account.

- `build.build_artifact`: go test + cross-compile + deterministic zip + manifest in `dist/`.
- `manifest.Manifest`: the JSON description written beside the zip.
- `checks.check_artifact`: offline checks before any upload or deploy (exit 2 on failure).

Import-light on purpose: no boto3, no AWS; import the submodule you need.
"""
