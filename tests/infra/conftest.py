"""Infra test helpers: the repo config and a variant config that exercises every template branch."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipeline.config.load import load_config
from pipeline.config.merged import PipelineConfig

REPO = Path(__file__).resolve().parents[2]

VARIANT = {
    "pipeline.yml": """
        name: shop
        region: eu-west-1
        tooling: {account: "999999999999"}
        order: [dev, prod]
        function: {memory: 256, architecture: arm64, log_retention_days: 30}
        """,
    "dev.yml": """
        account: "555555555555"
        deploy_role: shop-deploy
        external_id: "ext-123"
        promoters: ["arn:aws:iam::999999999999:role/release-managers"]
        function:
          environment: {TABLE: orders}
          policy_statements:
            - actions: [dynamodb:GetItem, dynamodb:PutItem]
              resources: ["arn:aws:dynamodb:eu-west-1:555555555555:table/orders"]
        """,
    "prod.yml": """
        protect: true
        gates: {requires: dev}
        targets:
          - {account: "666666666666"}
          - {account: "666666666666", region: eu-central-1}
          - {account: "777777777777", region: us-east-1}
        """,
}


def write_envdir(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


@pytest.fixture(scope="session")
def repo_config() -> PipelineConfig:
    return load_config(REPO / "environments")


@pytest.fixture(scope="session")
def variant_config(tmp_path_factory) -> PipelineConfig:
    return load_config(write_envdir(tmp_path_factory.mktemp("variant") / "environments", VARIANT))


@pytest.fixture
def variant_files() -> dict[str, str]:
    return dict(VARIANT)
