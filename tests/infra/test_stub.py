"""The bootstrap stub: deterministic bytes, and a handler that says 503 not deployed."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import zipfile

from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256, stub_zip


def test_stub_zip_is_deterministic():
    assert stub_zip() == stub_zip()
    assert stub_sha256() == hashlib.sha256(stub_zip()).hexdigest()
    with zipfile.ZipFile(io.BytesIO(stub_zip())) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["index.py"]
    assert infos[0].date_time == (1980, 1, 1, 0, 0, 0)
    assert infos[0].external_attr >> 16 == 0o100644


def test_stub_handler_answers_503_not_deployed(tmp_path):
    assert (STUB_RUNTIME, STUB_HANDLER) == ("python3.12", "index.handler")
    module_name, function_name = STUB_HANDLER.split(".")
    with zipfile.ZipFile(io.BytesIO(stub_zip())) as zf:
        zf.extractall(tmp_path)
    spec = importlib.util.spec_from_file_location("stub_index", tmp_path / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in ("/health", "/version", "/anything"):
        event = {"version": "2.0", "rawPath": path, "requestContext": {"http": {"method": "GET"}}}
        response = getattr(module, function_name)(event, None)
        assert response["statusCode"] == 503
        assert response["headers"] == {"Content-Type": "application/json"}
        assert json.loads(response["body"]) == {"status": "not deployed"}
