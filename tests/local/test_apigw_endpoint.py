"""An API's ApiEndpoint names the emulator that is running when it is made, also after a test's emulator
inside another's has stopped (the outer one's APIs must not name the stopped one's port)."""

from __future__ import annotations

from pipeline.local import apigw_layer
from pipeline.local.emulator import Emulator


def test_an_inner_emulator_stopping_gives_the_endpoint_back_to_the_outer_one():
    with Emulator() as outer:
        before = apigw_layer.endpoint("abc")
        with Emulator() as inner:
            assert apigw_layer.endpoint("abc") == f"{inner.endpoint_url.rstrip('/')}/_execute-api/abc"
        assert apigw_layer.endpoint("abc") == before == f"{outer.endpoint_url.rstrip('/')}/_execute-api/abc"
