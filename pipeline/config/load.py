"""Load `environments/`: the merged configuration, validated (`config/validation.py`) or, when the same
files validated before, read back from the cache (`config/cache.py`) without importing pydantic.

All problems found are raised together as one ConfigError, each one line `file:line: key.path: message`.
No AWS call happens here.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import cache
from pipeline.config.merged import PipelineConfig
from pipeline.errors import ConfigError

PIPELINE_FILE = "pipeline.yml"


DEFAULT_DIRECTORY = "environments"


def load_config(directory: Path | str = DEFAULT_DIRECTORY) -> PipelineConfig:
    directory = Path(directory)
    if not directory.exists() and str(directory) == DEFAULT_DIRECTORY:
        directory = find_upwards(Path.cwd()) or directory  # run from a subdirectory of the repository, like git
    if not directory.exists():
        raise ConfigError([f"{_shown(directory)}: environments directory not found here or above (expected "
                           f"{PIPELINE_FILE} and one <env>.yml per stage): run from the repository or pass "
                           "--config-dir DIR"])
    if not directory.is_dir():
        raise ConfigError([f"{_shown(directory)}: is not a directory"])
    try:
        entries = sorted(directory.iterdir())
    except PermissionError:
        raise ConfigError([f"{_shown(directory)}: environments directory is not readable (permission denied)"]) \
            from None
    name = cache.key(directory, entries)
    config = cache.read(name)
    if config is None:
        from pipeline.config.validation import validate_files

        config = validate_files(directory, entries)
        cache.write(name, config)
    return config


def find_upwards(start: Path) -> Path | None:
    """The nearest `environments/` holding pipeline.yml in `start` or a parent, stopping at the repository's
    root (the first directory with `.git`) so another checkout's files are never picked up."""
    for folder in (start, *start.parents):
        candidate = folder / DEFAULT_DIRECTORY
        if (candidate / PIPELINE_FILE).is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _shown(directory: Path) -> str:
    from pipeline.config.yamlsource import display_path

    return display_path(directory)
