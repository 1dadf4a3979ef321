"""Compiled templates kept between runs: Jinja's bytecode cache, so `validate` does not recompile
four templates on every start (compiling is most of a render's cost).

The cache lives in `$PIPELINE_CACHE_DIR` (default `$XDG_CACHE_HOME/pipeline`, else `~/.cache/pipeline`);
`PIPELINE_CACHE_DIR=off` disables it. Entries are keyed by template path and checked against the
source's checksum by Jinja, so an edited template is compiled again. A cache that cannot be read
or written is simply no cache: it never fails a render.
"""

from __future__ import annotations

import jinja2

from pipeline.config.cache import cache_root


class _QuietCache(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def bytecode_cache() -> jinja2.BytecodeCache | None:
    root = cache_root()
    if root is None:
        return None
    directory = root / f"jinja-{jinja2.__version__}"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return _QuietCache(str(directory))
