"""End-to-end checks of `stepwise serve` with boto3, as a user's code would call it.

Usage: python3 test_validate.py PORT   (a server must already listen on 127.0.0.1:PORT)
Driven by crates/api/tests/boto3_e2e.rs. Prints one line per check and a closing
'N passed, N failed' line; exits non-zero when any check failed.
"""

import http.client
import json
import sys
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PORT = int(sys.argv[1])
ENDPOINT = f"http://127.0.0.1:{PORT}"


def client(**config):
    return boto3.client(
        "stepfunctions",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(**config) if config else None,
    )


def raw(target, body, headers=None, chunked=False):
    """POST / with our own bytes, for what an SDK would never send."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    h = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        h["X-Amz-Target"] = target
    h.update(headers or {})
    if chunked:
        data = body.encode() if isinstance(body, str) else body
        pieces = (data[i : i + 65536] for i in range(0, len(data), 65536))
        conn.request("POST", "/", body=pieces, headers=h, encode_chunked=True)
    else:
        conn.request("POST", "/", body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), json.loads(data)


GOOD = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
NO_START_AT = json.dumps({"States": {"A": {"Type": "Pass", "End": True}}})
BAD_NEXT = json.dumps(
    {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "Nowhere"},
            "B": {"Type": "Pass", "Next": "AlsoNowhere"},
            "C": {"Type": "Succeed"},
        },
    }
)
WAIT_FOR_TOKEN = json.dumps(
    {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
)


def expect_client_error(call, code, status):
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        meta = e.response["ResponseMetadata"]
        assert err["Code"] == code, err
        assert meta["HTTPStatusCode"] == status, meta
        assert err["Message"], err
        return e
    raise AssertionError(f"expected {code}")


def test_good_definition():
    r = client().validate_state_machine_definition(definition=GOOD)
    assert r["result"] == "OK", r
    assert r["diagnostics"] == [], r
    assert r["truncated"] is False, r
    assert r["ResponseMetadata"]["RequestId"], r["ResponseMetadata"]


def test_missing_start_at_as_aws_records_it():
    r = client().validate_state_machine_definition(definition=NO_START_AT)
    assert r["result"] == "FAIL", r
    assert r["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "These fields are required: [StartAt]",
            "location": "/",
        }
    ], r["diagnostics"]


def test_not_json():
    r = client().validate_state_machine_definition(definition="not a definition")
    assert r["result"] == "FAIL"
    assert r["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION", r


def test_missing_targets_and_max_results():
    c = client()
    r = c.validate_state_machine_definition(definition=BAD_NEXT)
    codes = [d["code"] for d in r["diagnostics"]]
    assert set(codes) == {"MISSING_TRANSITION_TARGET"} and len(codes) >= 2, codes
    locs = {d.get("location") for d in r["diagnostics"]}
    assert "/States/A/Next" in locs and "/States/B/Next" in locs, locs
    assert r["truncated"] is False
    r = c.validate_state_machine_definition(definition=BAD_NEXT, maxResults=1)
    assert len(r["diagnostics"]) == 1 and r["truncated"] is True, r
    assert r["result"] == "FAIL"


def test_express_type():
    c = client()
    r = c.validate_state_machine_definition(definition=WAIT_FOR_TOKEN, type="STANDARD")
    assert r["result"] == "OK", r
    r = c.validate_state_machine_definition(definition=WAIT_FOR_TOKEN, type="EXPRESS")
    assert r["result"] == "FAIL", r
    assert r["diagnostics"][0]["location"] == "/States/S/Resource", r


def test_severity_warning_accepted():
    r = client().validate_state_machine_definition(definition=GOOD, severity="WARNING")
    assert r["result"] == "OK", r


def test_server_side_validation_exception():
    # boto3 checks maxResults <= 100 itself; switch that off to reach the server.
    c = client(parameter_validation=False)
    e = expect_client_error(
        lambda: c.validate_state_machine_definition(definition=GOOD, maxResults=500),
        "ValidationException",
        400,
    )
    assert e.response["Error"]["Message"] == (
        "1 validation error detected: Value '500' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    ), e.response["Error"]


def test_client_errors_are_not_retried():
    # Every action of the model is served: a missing resource is a 400 that SDKs don't retry.
    arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/l:x"
    e = expect_client_error(
        lambda: client().describe_map_run(mapRunArn=arn),
        "ResourceNotFound",
        400,
    )
    assert e.response["ResponseMetadata"].get("RetryAttempts", 0) == 0, e.response
    assert e.response["Error"]["Message"] == f"Resource not found: '{arn}'", e.response


def test_sync_prefixed_operations_reach_the_server():
    # StartSyncExecution/TestState carry hostPrefix "sync-": botocore would call
    # sync-127.0.0.1, which does not resolve, so local users switch the prefix off.
    c = client(inject_host_prefix=False)
    expect_client_error(
        lambda: c.start_sync_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine"
        ),
        "StateMachineDoesNotExist",
        400,
    )
    # A proxy or /etc/hosts entry may forward the prefixed Host header as is.
    status, _, body = raw(
        "AWSStepFunctions.ValidateStateMachineDefinition",
        json.dumps({"definition": GOOD}),
        {"Host": f"sync-localhost:{PORT}"},
    )
    assert status == 200 and body["result"] == "OK", (status, body)


def test_malformed_json_is_serialization_exception():
    status, headers, body = raw("AWSStepFunctions.ValidateStateMachineDefinition", b"{\"definition\": ")
    assert status == 400, status
    assert body["__type"] == "SerializationException", body
    assert isinstance(body["message"], str)
    assert headers["content-type"] == "application/x-amz-json-1.0", headers
    assert headers["x-amzn-errortype"] == "SerializationException", headers
    assert headers["x-amzn-requestid"], headers


def test_wrong_member_type():
    status, _, body = raw("AWSStepFunctions.ValidateStateMachineDefinition", json.dumps({"definition": 5}))
    assert status == 400 and body["__type"] == "SerializationException", body
    status, _, body = raw("AWSStepFunctions.ValidateStateMachineDefinition", json.dumps({}))
    assert status == 400 and body["__type"] == "ValidationException", body
    assert "Value null at 'definition'" in body["message"], body


def test_unknown_operation():
    status, _, body = raw("AWSStepFunctions.Frobnicate", b"{}")
    assert status == 400 and body["__type"] == "UnknownOperationException", body
    status, _, body = raw(None, b"{}")
    assert status == 400 and body["__type"] == "UnknownOperationException", body


def test_oversized_request():
    big = json.dumps({"definition": " " * (1024 * 1024 + 10)})
    for chunked in (False, True):
        status, _, body = raw("AWSStepFunctions.ValidateStateMachineDefinition", big, chunked=chunked)
        assert status == 413 and body["__type"] == "RequestEntityTooLargeException", (status, body)
    # Just under the limit is read in full (chunked, so no Content-Length shortcut).
    ok = json.dumps({"definition": GOOD + " " * (1024 * 1024 - 100)})
    status, _, body = raw("AWSStepFunctions.ValidateStateMachineDefinition", ok, chunked=True)
    assert status == 200 and body["result"] == "OK", (status, body)


def test_healthz():
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200


def main():
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
    print(f"boto3 {boto3.__version__}, endpoint {ENDPOINT}")
    print(f"boto3: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
