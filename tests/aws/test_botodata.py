"""The shared botocore loader: same answers as botocore's own, without the full service scan."""

from __future__ import annotations

import threading
import time

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


def test_a_model_asked_for_by_several_threads_is_parsed_once(monkeypatch):
    loader = SharedLoader()
    parses: list[str] = []
    original = Loader.load_data_with_path
    started = threading.Event()

    def slow(self, name):
        parses.append(name)
        started.set()
        time.sleep(0.05)  # the injected parse time: long enough for the other threads to arrive meanwhile
        return original(self, name)
    monkeypatch.setattr(Loader, "load_data_with_path", slow)
    first = loader.preload(["sts"])
    assert started.wait(5)
    answers: list[object] = []
    askers = [threading.Thread(target=lambda: answers.append(loader.load_service_model("sts", "service-2")))
              for _ in range(3)]
    for t in [*askers]:
        t.start()
    for t in [first, *askers]:
        t.join(5)
    assert [p for p in parses if p.endswith("service-2")] == ["sts/2011-06-15/service-2"]
    assert len(answers) == 3 and all(a is answers[0] for a in answers)
    assert sum(p.endswith("endpoint-rule-set-1") for p in parses) == 1  # preload parsed the endpoint rules too


def test_preload_of_an_unknown_service_leaves_the_error_to_the_client():
    loader = SharedLoader()
    loader.preload(["no-such-service", "sts"]).join(5)
    with pytest.raises(UnknownServiceError):
        loader.load_service_model("no-such-service", "service-2")
