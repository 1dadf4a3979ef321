"""The ClientError helper on real botocore errors, including answers that lack the usual keys."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pipeline.aws.errors import describe, error_code, error_message, http_status


def client_error(response: dict) -> ClientError:
    return ClientError(response, "GetObject")


def test_code_message_and_status_of_a_full_answer():
    exc = client_error({"Error": {"Code": "AccessDenied", "Message": "no"},
                        "ResponseMetadata": {"HTTPStatusCode": 403}})
    assert (error_code(exc), error_message(exc), http_status(exc)) == ("AccessDenied", "no", 403)
    assert describe(exc) == "AccessDenied: no"


def test_missing_keys_give_defaults_not_key_errors():
    exc = client_error({})
    assert (error_code(exc), error_code(exc, "Error"), error_message(exc), http_status(exc)) == ("", "Error", "", 0)
    assert describe(exc) == "Error"
    head = client_error({"Error": {"Code": "404", "Message": None}, "ResponseMetadata": {"HTTPStatusCode": 404}})
    assert (error_code(head), error_message(head), http_status(head), describe(head)) == ("404", "", 404, "404")
