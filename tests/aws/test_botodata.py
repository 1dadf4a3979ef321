"""The shared botocore loader: same answers as botocore's own, without the full service scan."""

from __future__ import annotations

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from pipeline.aws.botodata import SharedLoader, shared_loader


def test_it_loads_the_same_models_and_knows_the_same_services():
    ours, theirs = SharedLoader(), Loader()
    assert ours.load_service_model("lambda", "service-2") == theirs.load_service_model("lambda", "service-2")
    assert list(ours.list_available_services("service-2")) == theirs.list_available_services("service-2")
    assert "sts" in ours.list_available_services("endpoint-rule-set-1")


def test_loading_one_model_lists_no_other_service(monkeypatch):
    loader = SharedLoader()
    scans: list[str] = []
    original = Loader.list_available_services
    monkeypatch.setattr(Loader, "list_available_services",
                        lambda self, type_name: scans.append(type_name) or original(self, type_name))
    loader.load_service_model("sts", "service-2")
    assert scans == []


def test_an_unknown_service_is_botocores_error_naming_the_known_ones():
    with pytest.raises(UnknownServiceError, match="lambda") as raised:
        SharedLoader().load_service_model("no-such-service", "service-2")
    assert "no-such-service" in str(raised.value)


def test_one_loader_per_process():
    assert shared_loader() is shared_loader()
