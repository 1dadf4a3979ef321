"""What a smoke result keeps of the function's answer: JSON as JSON, not a string of JSON (core.smoke.answer)."""

from __future__ import annotations

import json

from pipeline.config.values import SmokeCase, SmokeExpect
from pipeline.core.smoke import MAX_ANSWER_BYTES, Invocation, answer, evaluate


def test_an_http_answer_and_its_json_body_are_kept_as_json():
    payload = json.dumps({"statusCode": 200, "headers": {"a": "b"}, "body": json.dumps({"status": "ok"})}).encode()
    assert answer(payload) == {"statusCode": 200, "headers": {"a": "b"}, "body": {"status": "ok"}}


def test_text_bodies_base64_bodies_non_json_and_huge_answers_stay_text():
    assert answer(b'{"statusCode": 200, "body": "42"}') == {"statusCode": 200, "body": "42"}
    b64 = {"statusCode": 200, "isBase64Encoded": True, "body": "e30="}
    assert answer(json.dumps(b64).encode()) == b64
    assert answer(b"not json at all") == "not json at all"
    huge = json.dumps({"body": "x" * MAX_ANSWER_BYTES}).encode()
    assert answer(huge) == huge[:500].decode()


def test_the_result_document_holds_the_parsed_answer():
    case = SmokeCase(name="health", path="/health", expect=SmokeExpect(statusCode=200))
    payload = json.dumps({"statusCode": 200, "body": json.dumps({"status": "ok"})}).encode()
    result = evaluate(case, "live", Invocation(payload, 12.0)).to_dict()
    assert result["passed"] and result["response"]["body"] == {"status": "ok"}
    assert json.loads(json.dumps(result))["response"]["body"]["status"] == "ok"  # one encoding, not two
