"""End-to-end checks of every action `stepwise serve` implements, through boto3.

Usage: python3 test_actions.py PORT   (a server must already listen on 127.0.0.1:PORT, with the
default region us-east-1 and account 123456789012). Driven by crates/api/tests/boto3_e2e.rs.
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero when any
check failed. Expected messages are AWS's, as recorded in the conformance corpus.
"""

import json
import sys
import time
import traceback
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PORT = int(sys.argv[1])
ENDPOINT = f"http://127.0.0.1:{PORT}"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:us-east-1:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn-role"


def client(**config):
    return boto3.client(
        "stepfunctions",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(**config) if config else None,
    )


SFN = client()
# Reaches the server's own validation (boto3 checks lengths and ranges client-side).
RAW = client(parameter_validation=False)


def uid():
    return uuid.uuid4().hex[:8]


def pass_def(comment="c", result=None):
    return json.dumps(
        {
            "Comment": comment,
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Result": result or {"x": 1}, "End": True}},
        }
    )


WAIT_1S = json.dumps(
    {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"waited.$": "$.v"}, "End": True},
        },
    }
)


def error(call, code, message=None):
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == code, err
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        if message is not None:
            assert err["Message"] == message, err
        return err["Message"]
    raise AssertionError(f"expected {code}")


def machine(**kw):
    name = kw.pop("name", None) or f"sm-{uid()}"
    kw.setdefault("definition", pass_def())
    kw.setdefault("roleArn", ROLE)
    r = SFN.create_state_machine(name=name, **kw)
    return name, r


def wait_done(arn, timeout=20):
    start = time.time()
    while True:
        d = SFN.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        assert time.time() - start < timeout, f"{arn} still RUNNING after {timeout} s"
        time.sleep(0.1)


# State machines ------------------------------------------------------------------------------


def test_create_describe_delete():
    name, r = machine(tags=[{"key": "k1", "value": "v1"}])
    arn = f"{PREFIX}:stateMachine:{name}"
    assert r["stateMachineArn"] == arn and "stateMachineVersionArn" not in r, r
    d = SFN.describe_state_machine(stateMachineArn=arn)
    assert d["name"] == name and d["status"] == "ACTIVE" and d["type"] == "STANDARD", d
    assert d["roleArn"] == ROLE and json.loads(d["definition"])["StartAt"] == "P", d
    assert d["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}, d
    assert d["tracingConfiguration"] == {"enabled": False}, d
    assert "revisionId" not in d, d
    assert d["creationDate"] == r["creationDate"], (d, r)
    assert SFN.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k1", "value": "v1"}]
    SFN.delete_state_machine(stateMachineArn=arn)
    error(
        lambda: SFN.describe_state_machine(stateMachineArn=arn),
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{arn}'",
    )
    # Deleting what is not there succeeds (recorded).
    SFN.delete_state_machine(stateMachineArn=arn)


def test_idempotent_create_and_conflict():
    name, r1 = machine()
    _, r2 = machine(name=name)
    assert r1["creationDate"] == r2["creationDate"], (r1, r2)
    arn = r1["stateMachineArn"]
    error(
        lambda: machine(name=name, definition=pass_def("other")),
        "StateMachineAlreadyExists",
        f"State Machine Already Exists: '{arn}'",
    )


def test_create_errors():
    error(
        lambda: machine(definition=json.dumps({"StartAt": "A"})),
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are "
        "required: [States] at /'",
    )
    error(lambda: machine(name="bad name"), "InvalidName", "Invalid Name: 'bad name'")
    error(lambda: machine(roleArn="not-a-role"), "InvalidArn")
    for logging in (
        {"level": "ALL"},
        {
            "level": "ERROR",
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:a:*"}},
                {"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:b:*"}},
            ],
        },
    ):
        error(
            lambda: machine(loggingConfiguration=logging),
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        )
    e = error(lambda: RAW.create_state_machine(name="x" * 81, definition=pass_def(), roleArn=ROLE), "ValidationException")
    assert "Member must have length less than or equal to 80" in e, e
    error(
        lambda: machine(definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Parameters": {"QueueUrl": "q", "MessageBody": "m"}, "End": True}}}), type="EXPRESS"),
        "InvalidDefinition",
    )


def test_logging_configuration_described():
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/vendedlogs/states/g:*"
    logging = {
        "level": "ERROR",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}],
    }
    _, r = machine(loggingConfiguration=logging)
    d = SFN.describe_state_machine(stateMachineArn=r["stateMachineArn"])
    assert d["loggingConfiguration"] == logging, d


def test_update_revisions_and_errors():
    _, r = machine()
    arn = r["stateMachineArn"]
    u1 = SFN.update_state_machine(stateMachineArn=arn, definition=pass_def("r1"))
    assert u1["revisionId"] and "stateMachineVersionArn" not in u1, u1
    d = SFN.describe_state_machine(stateMachineArn=arn)
    assert d["revisionId"] == u1["revisionId"] and json.loads(d["definition"])["Comment"] == "r1"
    u2 = SFN.update_state_machine(stateMachineArn=arn, roleArn=f"arn:aws:iam::{ACCOUNT}:role/other")
    assert u2["revisionId"] != u1["revisionId"], (u1, u2)
    assert SFN.describe_state_machine(stateMachineArn=arn)["roleArn"].endswith("role/other")
    error(
        lambda: SFN.update_state_machine(stateMachineArn=arn),
        "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, or the "
        "TracingConfiguration must be specified",
    )
    error(lambda: SFN.update_state_machine(stateMachineArn=arn, definition="{"), "InvalidDefinition")
    error(
        lambda: SFN.update_state_machine(stateMachineArn=arn + "-gone", definition=pass_def()),
        "StateMachineDoesNotExist",
    )


def test_invalid_arns():
    for call in (
        lambda: SFN.describe_state_machine(stateMachineArn="not_a_valid_arn"),
        lambda: SFN.describe_execution(executionArn="not_a_valid_arn"),
        lambda: SFN.get_execution_history(executionArn="not_a_valid_arn"),
        lambda: SFN.list_executions(stateMachineArn="not_a_valid_arn"),
        lambda: SFN.describe_activity(activityArn="not_a_valid_arn"),
        lambda: SFN.publish_state_machine_version(stateMachineArn="not_a_valid_arn"),
    ):
        error(call, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'")


def test_list_state_machines_three_pages():
    names = {machine(name=f"page-{uid()}")[0] for _ in range(3)}
    seen, pages, token = [], 0, None
    while True:
        kw = {"maxResults": 1}
        if token:
            kw["nextToken"] = token
        r = SFN.list_state_machines(**kw)
        pages += 1
        seen += [m["name"] for m in r["stateMachines"]]
        for m in r["stateMachines"]:
            assert set(m) == {"stateMachineArn", "name", "type", "creationDate"}, m
        token = r.get("nextToken")
        if not token:
            break
    assert names <= set(seen) and pages >= 3, (pages, seen)
    assert len(seen) == len(set(seen)), seen
    # boto3's paginator follows the same tokens.
    flat = [m["name"] for p in SFN.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2}) for m in p["stateMachines"]]
    assert flat == seen, (flat, seen)
    error(lambda: SFN.list_state_machines(nextToken="garbage"), "InvalidToken", "Invalid Token: 'Invalid token'")
    e = error(lambda: RAW.list_state_machines(maxResults=1001), "ValidationException")
    assert e == (
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000"
    ), e


# Versions and aliases ------------------------------------------------------------------------


def test_versions():
    name, r = machine(publish=True, versionDescription="HelloWorld!")
    arn = r["stateMachineArn"]
    assert r["stateMachineVersionArn"] == f"{arn}:1", r
    v1 = SFN.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert v1["stateMachineArn"] == f"{arn}:1" and v1["description"] == "HelloWorld!", v1
    assert v1["name"] == name, v1
    # Same revision: the existing version (recorded).
    u = SFN.update_state_machine(stateMachineArn=arn, definition=pass_def(), publish=True)
    assert u["stateMachineVersionArn"] == f"{arn}:1" and "revisionId" not in u, u
    u = SFN.update_state_machine(stateMachineArn=arn, definition=pass_def("r2"), publish=True, versionDescription="two")
    assert u["stateMachineVersionArn"] == f"{arn}:2", u
    SFN.update_state_machine(stateMachineArn=arn, definition=pass_def("r3"))
    error(
        lambda: SFN.publish_state_machine_version(stateMachineArn=arn, revisionId=u["revisionId"]),
        "ConflictException",
    )
    p = SFN.publish_state_machine_version(stateMachineArn=arn, description="three")
    assert p["stateMachineVersionArn"] == f"{arn}:3", p
    listed = SFN.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:3", f"{arn}:2", f"{arn}:1"]
    SFN.delete_state_machine_version(stateMachineVersionArn=f"{arn}:3")
    SFN.delete_state_machine_version(stateMachineVersionArn=f"{arn}:3")  # idempotent
    # Numbers are never reused.
    p = SFN.publish_state_machine_version(stateMachineArn=arn)
    assert p["stateMachineVersionArn"] == f"{arn}:4", p
    error(
        lambda: SFN.publish_state_machine_version(stateMachineArn=f"{PREFIX}:stateMachine:none-{uid()}"),
        "StateMachineDoesNotExist",
    )
    error(
        lambda: SFN.update_state_machine(stateMachineArn=f"{arn}:2", definition=pass_def("x")),
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{arn}:2'",
    )


def test_aliases():
    _, r = machine(publish=True)
    arn = r["stateMachineArn"]
    SFN.update_state_machine(stateMachineArn=arn, definition=pass_def("v2"), publish=True)
    v1, v2 = f"{arn}:1", f"{arn}:2"
    a = SFN.create_state_machine_alias(
        name="PROD", description="d", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
    )
    alias = f"{arn}:PROD"
    assert a["stateMachineAliasArn"] == alias, a
    again = SFN.create_state_machine_alias(
        name="PROD", description="d", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
    )
    assert again["creationDate"] == a["creationDate"], (a, again)
    error(
        lambda: SFN.create_state_machine_alias(name="PROD", description="other", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]),
        "ConflictException",
        "Failed to create alias because an alias with the same name and a different routing "
        "configuration already exists.",
    )
    error(
        lambda: SFN.create_state_machine_alias(name="B", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 29}]),
        "ValidationException",
        "Sum of routing configuration weights must equal 100. Received: [70, 29]",
    )
    error(
        lambda: SFN.create_state_machine_alias(name="B", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v1, "weight": 50}]),
        "ValidationException",
        f"Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]",
    )
    error(
        lambda: SFN.create_state_machine_alias(name="B", routingConfiguration=[{"stateMachineVersionArn": arn, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 30}]),
        "ValidationException",
        f"Routing configuration must contain state machine version ARNs. Received: [{arn}, {v2}]",
    )
    error(
        lambda: RAW.create_state_machine_alias(name="B", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 101}]),
        "ValidationException",
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' "
        "failed to satisfy constraint: Member must have value less than or equal to 100",
    )
    error(
        lambda: SFN.create_state_machine_alias(name="123", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]),
        "ValidationException",
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$",
    )
    SFN.update_state_machine_alias(stateMachineAliasArn=alias, description="new description")
    SFN.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}],
    )
    d = SFN.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert d["description"] == "new description" and d["name"] == "PROD", d
    assert d["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}], d
    error(
        lambda: SFN.delete_state_machine_version(stateMachineVersionArn=v1),
        "ConflictException",
        "Version to be deleted must not be referenced by an alias. Current list of aliases "
        "referencing this version: [PROD]",
    )
    SFN.create_state_machine_alias(name="BETA", routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
    listed = SFN.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [x["stateMachineAliasArn"] for x in listed] == [alias, f"{arn}:BETA"], listed
    page = SFN.list_state_machine_aliases(stateMachineArn=arn, maxResults=1)
    assert len(page["stateMachineAliases"]) == 1 and page["nextToken"], page
    error(
        lambda: SFN.list_state_machine_aliases(stateMachineArn=arn, nextToken="InvalidToken"),
        "InvalidToken",
        "Invalid Token: 'Invalid token'",
    )
    SFN.delete_state_machine_alias(stateMachineAliasArn=alias)
    error(
        lambda: SFN.update_state_machine_alias(stateMachineAliasArn=alias, description="x"),
        "ResourceNotFound",
        "Request references a resource that does not exist.",
    )
    error(lambda: SFN.describe_state_machine_alias(stateMachineAliasArn=alias), "ResourceNotFound")


# Tags and activities -------------------------------------------------------------------------


def test_tags():
    _, r = machine(publish=True)
    arn = r["stateMachineArn"]
    SFN.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": ""}])
    SFN.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "2"}])
    tags = SFN.list_tags_for_resource(resourceArn=arn)["tags"]
    assert tags == [{"key": "a", "value": "2"}, {"key": "b", "value": ""}], tags
    SFN.untag_resource(resourceArn=arn, tagKeys=["a", "zzz"])
    assert SFN.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": ""}]
    error(
        lambda: SFN.tag_resource(resourceArn=f"{arn}:1", tags=[{"key": "k", "value": "v"}]),
        "ResourceNotFound",
        f"Resource not found: '{arn}:1'",
    )
    gone = f"{PREFIX}:stateMachine:none-{uid()}"
    error(lambda: SFN.list_tags_for_resource(resourceArn=gone), "ResourceNotFound")
    error(lambda: SFN.untag_resource(resourceArn=gone, tagKeys=["a"]), "ResourceNotFound")


def test_activities():
    names = [f"act-{i}-{uid()}" for i in range(3)]
    arns = []
    for n in names:
        r = SFN.create_activity(name=n, tags=[{"key": "team", "value": "x"}])
        assert r["activityArn"] == f"{PREFIX}:activity:{n}", r
        arns.append(r["activityArn"])
    again = SFN.create_activity(name=names[0])
    assert again["activityArn"] == arns[0], again
    d = SFN.describe_activity(activityArn=arns[0])
    assert d["name"] == names[0] and d["activityArn"] == arns[0], d
    listed = [a["activityArn"] for a in SFN.list_activities()["activities"]]
    assert [a for a in listed if a in arns] == arns, listed
    assert SFN.list_tags_for_resource(resourceArn=arns[1])["tags"] == [{"key": "team", "value": "x"}]
    SFN.delete_activity(activityArn=arns[0])
    error(
        lambda: SFN.describe_activity(activityArn=arns[0]),
        "ActivityDoesNotExist",
        f"Activity Does Not Exist: '{arns[0]}'",
    )
    for bad in ("activity name", "activity/name", "activity\u0000", "a[b", "a~b"):
        error(lambda: SFN.create_activity(name=bad), "InvalidName", f"Invalid Name: '{bad}'")
    error(lambda: SFN.describe_activity(activityArn=f"{PREFIX}:stateMachine:x"), "InvalidArn")


# Executions ----------------------------------------------------------------------------------


def test_standard_execution_with_wait():
    name, r = machine(definition=WAIT_1S)
    arn = r["stateMachineArn"]
    s = SFN.start_execution(stateMachineArn=arn, name="run-1", input=json.dumps({"v": 7}), traceHeader="Root=1")
    assert s["executionArn"] == f"{PREFIX}:execution:{name}:run-1", s
    running = SFN.describe_execution(executionArn=s["executionArn"])
    assert running["status"] == "RUNNING", running
    assert running["redriveStatus"] == "NOT_REDRIVABLE", running
    # Same name and input while running: the same execution (idempotent start).
    again = SFN.start_execution(stateMachineArn=arn, name="run-1", input=json.dumps({"v": 7}))
    assert again["executionArn"] == s["executionArn"], again
    error(
        lambda: SFN.start_execution(stateMachineArn=arn, name="run-1", input="{}"),
        "ExecutionAlreadyExists",
        f"Execution Already Exists: '{s['executionArn']}'",
    )
    d = wait_done(s["executionArn"])
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"waited": 7}, d
    assert json.loads(d["input"]) == {"v": 7}, d
    assert (d["stopDate"] - d["startDate"]).total_seconds() >= 1, d
    assert d["stateMachineArn"] == arn and d["name"] == "run-1", d
    h = SFN.get_execution_history(executionArn=s["executionArn"], reverseOrder=True)
    types = [e["type"] for e in h["events"]]
    assert types == [
        "ExecutionSucceeded", "PassStateExited", "PassStateEntered",
        "WaitStateExited", "WaitStateEntered", "ExecutionStarted",
    ], types
    first = h["events"][-1]
    assert first["id"] == 1 and first["previousEventId"] == 0, first
    assert json.loads(first["executionStartedEventDetails"]["input"]) == {"v": 7}, first
    assert first["executionStartedEventDetails"]["roleArn"] == ROLE, first
    assert h["events"][0]["executionSucceededEventDetails"]["output"] == d["output"], h["events"][0]
    fwd = SFN.get_execution_history(executionArn=s["executionArn"], maxResults=2)
    assert [e["id"] for e in fwd["events"]] == [1, 2] and fwd["nextToken"], fwd
    rest = SFN.get_execution_history(executionArn=s["executionArn"], maxResults=2, nextToken=fwd["nextToken"])
    assert [e["id"] for e in rest["events"]] == [3, 4], rest
    bare = SFN.get_execution_history(executionArn=s["executionArn"], includeExecutionData=False)
    started = bare["events"][0]["executionStartedEventDetails"]
    assert "input" not in started and started["roleArn"] == ROLE, started
    sm = SFN.describe_state_machine_for_execution(executionArn=s["executionArn"])
    assert sm["stateMachineArn"] == arn and sm["name"] == name and sm["definition"] == WAIT_1S, sm
    stop = SFN.stop_execution(executionArn=s["executionArn"])
    assert stop["stopDate"] == d["stopDate"], (stop, d)


def test_start_execution_defaults_and_errors():
    name, r = machine()
    arn = r["stateMachineArn"]
    s = SFN.start_execution(stateMachineArn=arn)
    exec_name = s["executionArn"].rsplit(":", 1)[1]
    assert uuid.UUID(exec_name), s
    d = wait_done(s["executionArn"])
    assert json.loads(d["input"]) == {} and d["status"] == "SUCCEEDED", d
    msg = error(lambda: SFN.start_execution(stateMachineArn=arn, input="{not json"), "InvalidExecutionInput")
    assert msg.startswith("Invalid State Machine Execution Input: "), msg
    error(lambda: SFN.start_execution(stateMachineArn=arn, name="a b"), "InvalidName", "Invalid Name: 'a b'")
    gone = f"{PREFIX}:stateMachine:statemachine_invalid_{uid()}"
    error(
        lambda: SFN.start_execution(stateMachineArn=gone),
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{gone}'",
    )
    e = error(lambda: RAW.start_execution(stateMachineArn=arn, input="1" * (256 * 1024 + 1)), "ValidationException")
    assert "262144" in e, e
    error(
        lambda: SFN.describe_execution(executionArn=f"{PREFIX}:execution:{name}:nope"),
        "ExecutionDoesNotExist",
        f"Execution Does Not Exist: '{PREFIX}:execution:{name}:nope'",
    )
    error(lambda: SFN.stop_execution(executionArn=f"{PREFIX}:execution:{name}:nope"), "ExecutionDoesNotExist")


def test_stop_execution():
    _, r = machine(definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}))
    s = SFN.start_execution(stateMachineArn=r["stateMachineArn"])
    stop = SFN.stop_execution(executionArn=s["executionArn"], error="Boom", cause="because")
    d = SFN.describe_execution(executionArn=s["executionArn"])
    assert d["status"] == "ABORTED" and d["stopDate"] == stop["stopDate"], (d, stop)
    assert d["error"] == "Boom" and d["cause"] == "because", d
    assert d["redriveStatus"] == "REDRIVABLE", d
    types = [e["type"] for e in SFN.get_execution_history(executionArn=s["executionArn"])["events"]]
    assert types[-1] == "ExecutionAborted", types


def test_versions_and_aliases_run_their_definition():
    _, r = machine(definition=pass_def("v1", {"v": 1}), publish=True)
    arn = r["stateMachineArn"]
    SFN.update_state_machine(stateMachineArn=arn, definition=pass_def("v2", {"v": 2}))
    SFN.create_state_machine_alias(name="LIVE", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 100}])
    by_version = SFN.start_execution(stateMachineArn=f"{arn}:1")
    by_alias = SFN.start_execution(stateMachineArn=f"{arn}:LIVE")
    latest = SFN.start_execution(stateMachineArn=arn)
    dv, da, dl = (wait_done(x["executionArn"]) for x in (by_version, by_alias, latest))
    assert json.loads(dv["output"]) == {"v": 1} and dv["stateMachineVersionArn"] == f"{arn}:1", dv
    assert json.loads(da["output"]) == {"v": 1} and da["stateMachineAliasArn"] == f"{arn}:LIVE", da
    assert da["stateMachineVersionArn"] == f"{arn}:1", da
    assert json.loads(dl["output"]) == {"v": 2} and "stateMachineVersionArn" not in dl, dl
    only_v1 = SFN.list_executions(stateMachineArn=f"{arn}:1")["executions"]
    assert {e["executionArn"] for e in only_v1} == {by_version["executionArn"], by_alias["executionArn"]}, only_v1
    sm = SFN.describe_state_machine_for_execution(executionArn=by_version["executionArn"])
    assert json.loads(sm["definition"])["Comment"] == "v1", sm


def test_list_executions_three_pages_and_filters():
    _, r = machine()
    arn = r["stateMachineArn"]
    started = [SFN.start_execution(stateMachineArn=arn, input="{}")["executionArn"] for _ in range(3)]
    for e in started:
        wait_done(e)
    assert SFN.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    seen, token, pages = [], None, 0
    while True:
        kw = {"stateMachineArn": arn, "maxResults": 1}
        if token:
            kw["nextToken"] = token
        page = SFN.list_executions(**kw)
        pages += 1
        seen += [e["executionArn"] for e in page["executions"]]
        for e in page["executions"]:
            assert e["status"] == "SUCCEEDED" and e["redriveCount"] == 0 and "stopDate" in e, e
        token = page.get("nextToken")
        if not token:
            break
    assert pages == 3 and seen == started[::-1], (pages, seen, started)
    e = error(lambda: RAW.list_executions(stateMachineArn=arn, statusFilter="succeeded"), "ValidationException")
    assert e == (
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, "
        "ABORTED, FAILED, RUNNING]"
    ), e
    e = error(lambda: RAW.list_executions(stateMachineArn=arn, nextToken="x" * 3097), "ValidationException")
    assert "Member must have length less than or equal to 3096" in e, e
    error(lambda: SFN.list_executions(stateMachineArn=arn, nextToken="bogus"), "InvalidToken")
    error(
        lambda: SFN.list_executions(stateMachineArn=f"{PREFIX}:stateMachine:none-{uid()}"),
        "StateMachineDoesNotExist",
    )


def test_start_sync_execution():
    sync = client(inject_host_prefix=False)
    _, r = machine(type="EXPRESS", definition=pass_def("sync", {"Arg1": "argument1"}))
    out = sync.start_sync_execution(stateMachineArn=r["stateMachineArn"], name="s1", input=json.dumps({"a": 1}))
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"Arg1": "argument1"}, out
    assert json.loads(out["input"]) == {"a": 1}, out
    assert out["executionArn"].startswith(f"{PREFIX}:express:{r['stateMachineArn'].rsplit(':', 1)[1]}:s1:"), out
    assert out["billingDetails"]["billedDurationInMilliseconds"] >= 100, out
    assert out["billingDetails"]["billedMemoryUsedInMB"] > 0, out
    assert out["stopDate"] >= out["startDate"], out
    fail_def = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}})
    _, rf = machine(type="EXPRESS", definition=fail_def)
    f = sync.start_sync_execution(stateMachineArn=rf["stateMachineArn"])
    assert f["status"] == "FAILED" and f["error"] == "E" and f["cause"] == "C" and "output" not in f, f
    _, std = machine()
    error(
        lambda: sync.start_sync_execution(stateMachineArn=std["stateMachineArn"]),
        "StateMachineTypeNotSupported",
        "This operation is not supported by this type of state machine",
    )
    error(
        lambda: SFN.list_executions(stateMachineArn=r["stateMachineArn"]),
        "StateMachineTypeNotSupported",
    )


# Redrive and map runs ------------------------------------------------------------------------


def test_redrive_execution():
    act = SFN.create_activity(name=f"act-{uid()}")["activityArn"]
    definition = json.dumps(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Result": "kept", "ResultPath": "$.p", "Next": "T"},
                "T": {
                    "Type": "Task",
                    "Resource": act,
                    "Parameters": {"rc.$": "$$.Execution.RedriveCount"},
                    "ResultPath": "$.t",
                    "End": True,
                },
            },
        }
    )
    _, r = machine(definition=definition)
    arn = SFN.start_execution(stateMachineArn=r["stateMachineArn"], input="{}")["executionArn"]
    task = SFN.get_activity_task(activityArn=act, workerName="w")
    assert json.loads(task["input"]) == {"rc": 0}, task
    SFN.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="first try")
    d = wait_done(arn)
    assert d["status"] == "FAILED" and d["error"] == "Flaky", d
    assert d["redriveStatus"] == "REDRIVABLE" and d["redriveCount"] == 0, d

    red = SFN.redrive_execution(executionArn=arn)
    assert red["redriveDate"] >= d["stopDate"], (red, d)
    running = SFN.describe_execution(executionArn=arn)
    assert running["status"] == "RUNNING" and running["redriveCount"] == 1, running
    assert running["redriveStatus"] == "NOT_REDRIVABLE", running
    assert running["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven", running
    error(
        lambda: SFN.redrive_execution(executionArn=arn),
        "ExecutionNotRedrivable",
        "Execution is RUNNING and cannot be redriven",
    )
    task = SFN.get_activity_task(activityArn=act, workerName="w")
    assert json.loads(task["input"]) == {"rc": 1}, task
    SFN.send_task_success(taskToken=task["taskToken"], output=json.dumps({"ok": True}))
    d = wait_done(arn)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"p": "kept", "t": {"ok": True}}, d
    assert d["redriveCount"] == 1 and d["redriveDate"] == red["redriveDate"], d

    events = SFN.get_execution_history(executionArn=arn)["events"]
    types = [e["type"] for e in events]
    at = types.index("ExecutionRedriven")
    assert types[at - 1] == "ExecutionFailed", types
    assert events[at]["executionRedrivenEventDetails"] == {"redriveCount": 1}, events[at]
    # Only the failed Task runs again: the Pass state is not re-entered.
    assert types[at + 1 :].count("PassStateEntered") == 0, types
    assert types[at + 1] == "TaskStateEntered" and types[-1] == "ExecutionSucceeded", types
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))

    redriven = SFN.list_executions(stateMachineArn=r["stateMachineArn"], redriveFilter="REDRIVEN")
    assert [e["executionArn"] for e in redriven["executions"]] == [arn], redriven
    assert redriven["executions"][0]["redriveCount"] == 1, redriven
    never = SFN.list_executions(stateMachineArn=r["stateMachineArn"], redriveFilter="NOT_REDRIVEN")
    assert never["executions"] == [], never
    error(
        lambda: SFN.redrive_execution(executionArn=arn),
        "ExecutionNotRedrivable",
        "Execution is SUCCEEDED and cannot be redriven",
    )
    error(
        lambda: SFN.redrive_execution(executionArn=f"{PREFIX}:execution:nope:x"),
        "ExecutionDoesNotExist",
    )
    error(lambda: SFN.redrive_execution(executionArn=act), "InvalidArn")


def test_map_runs():
    definition = json.dumps(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "Label": "Fan",
                    "MaxConcurrency": 2,
                    "ToleratedFailureCount": 1,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Choice",
                                "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "F"}],
                                "Default": "P",
                            },
                            "F": {"Type": "Fail", "Error": "Three"},
                            "P": {"Type": "Pass", "End": True},
                        },
                    },
                    "End": True,
                }
            },
        }
    )
    name, r = machine(definition=definition)
    arn = SFN.start_execution(stateMachineArn=r["stateMachineArn"], input="[1, 2, 3, 4]")["executionArn"]
    d = wait_done(arn)
    assert d["status"] == "SUCCEEDED", d
    runs = SFN.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["executionArn"] == arn, run
    assert run["mapRunArn"].startswith(f"{PREFIX}:mapRun:{name}/Fan:"), run
    assert run["stateMachineArn"] == f"{PREFIX}:stateMachine:{name}/Fan", run
    m = SFN.describe_map_run(mapRunArn=run["mapRunArn"])
    assert m["status"] == "SUCCEEDED" and m["maxConcurrency"] == 2, m
    assert m["toleratedFailureCount"] == 1 and m["toleratedFailurePercentage"] == 0, m
    counts = {k: m["itemCounts"][k] for k in ("total", "succeeded", "failed", "running", "pending")}
    assert counts == {"total": 4, "succeeded": 3, "failed": 1, "running": 0, "pending": 0}, m
    assert m["executionCounts"]["total"] == 4, m
    assert m["startDate"] <= m["stopDate"], m
    events = SFN.get_execution_history(executionArn=arn)["events"]
    started = [e for e in events if e["type"] == "MapRunStarted"]
    assert started[0]["mapRunStartedEventDetails"]["mapRunArn"] == run["mapRunArn"], started

    children = SFN.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert len(children) == 4 and all(c["mapRunArn"] == run["mapRunArn"] for c in children), children
    failed = SFN.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED")["executions"]
    assert len(failed) == 1, failed
    child = SFN.describe_execution(executionArn=failed[0]["executionArn"])
    assert child["error"] == "Three" and child["mapRunArn"] == run["mapRunArn"], child
    assert child["redriveStatus"] == "REDRIVABLE_BY_MAP_RUN", child
    assert json.loads(child["input"]) == 3, child

    SFN.update_map_run(mapRunArn=run["mapRunArn"], maxConcurrency=10, toleratedFailurePercentage=25.5)
    m = SFN.describe_map_run(mapRunArn=run["mapRunArn"])
    assert m["maxConcurrency"] == 10 and m["toleratedFailurePercentage"] == 25.5, m
    missing = run["mapRunArn"][:-4] + "0000"
    error(
        lambda: SFN.describe_map_run(mapRunArn=missing),
        "ResourceNotFound",
        f"Resource not found: '{missing}'",
    )
    error(lambda: SFN.update_map_run(mapRunArn=missing, maxConcurrency=1), "ResourceNotFound")
    error(lambda: SFN.describe_map_run(mapRunArn=arn), "InvalidArn")
    error(
        lambda: SFN.list_map_runs(executionArn=f"{PREFIX}:execution:{name}:nope"),
        "ExecutionDoesNotExist",
    )
    assert SFN.list_map_runs(executionArn=arn, maxResults=1)["mapRuns"] == runs


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
    print(f"boto3 actions: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
