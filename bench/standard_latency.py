#!/usr/bin/env python3
"""p50/p99 start-to-finish latency of a 3-state Standard execution on `stepwise serve`.

One keep-alive HTTP connection, executions one after another: StartExecution, then
DescribeExecution back-to-back until the status is terminal. Reports the client-observed time
and the server's own stopDate - startDate.   usage: standard_latency.py http://127.0.0.1:8083 [N]
"""
import http.client, json, statistics, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
conn = http.client.HTTPConnection(url.hostname, url.port)

def call(action, body):
    conn.request("POST", "/", json.dumps(body), {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AWSStepFunctions.{action}"})
    r = conn.getresponse()
    data = json.loads(r.read() or b"{}")
    if r.status != 200:
        raise SystemExit(f"{action}: {r.status} {data}")
    return data

states = {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.b", "Next": "C"},
          "C": {"Type": "Pass", "End": True}}
name = f"latency-{int(time.time())}"
arn = call("CreateStateMachine", {"name": name, "roleArn": "arn:aws:iam::123456789012:role/r",
                                  "definition": json.dumps({"StartAt": "A", "States": states})})["stateMachineArn"]
client, server = [], []
for i in range(n):
    t0 = time.perf_counter()
    ex = call("StartExecution", {"stateMachineArn": arn, "input": "{}"})["executionArn"]
    while True:
        d = call("DescribeExecution", {"executionArn": ex})
        if d["status"] != "RUNNING":
            break
    client.append((time.perf_counter() - t0) * 1000)
    server.append((d["stopDate"] - d["startDate"]) * 1000)
    assert d["status"] == "SUCCEEDED", d

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]

print(json.dumps({"executions": n, "client_p50_ms": round(statistics.median(client), 2),
                  "client_p99_ms": round(pct(client, 0.99), 2), "server_p50_ms": round(statistics.median(server), 2),
                  "server_p99_ms": round(pct(server, 0.99), 2)}))
