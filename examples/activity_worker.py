#!/usr/bin/env python3
"""An activity worker for Stepwise (or AWS Step Functions): polls GetActivityTask, does the
work, answers with SendTaskSuccess or SendTaskFailure, and heartbeats while it works.

    python3 examples/activity_worker.py \
        --activity-arn arn:aws:states:us-east-1:123456789012:activity:work

Then run a state machine whose Task has that activity ARN as its Resource. The work here is a
stand-in: an input with "numbers" gets their sum; an input with "fail" is refused with
SendTaskFailure; anything else is echoed back.

Options (or environment variables): --endpoint (STEPWISE_ENDPOINT, default
http://localhost:8083; "aws" uses the real service), --region (AWS_REGION, default us-east-1),
--worker-name, --max-tasks N (exit after N tasks; default: run until interrupted).
Needs boto3 (`pip install boto3`). Any credentials do for Stepwise.
"""

import argparse
import json
import os
import socket
import sys

import boto3
from botocore.config import Config


def client(endpoint, region):
    # GetActivityTask holds the request up to 60 s: read longer than that (AWS recommends
    # at least 65 s), or the poll itself times out.
    config = Config(read_timeout=70, retries={"max_attempts": 3, "mode": "standard"})
    kwargs = {"region_name": region, "config": config}
    if endpoint != "aws":
        kwargs["endpoint_url"] = endpoint
        kwargs.setdefault("aws_access_key_id", os.environ.get("AWS_ACCESS_KEY_ID", "test"))
        kwargs.setdefault(
            "aws_secret_access_key", os.environ.get("AWS_SECRET_ACCESS_KEY", "test")
        )
    return boto3.client("stepfunctions", **kwargs)


def work(task_input, worker):
    """The task itself: returns the output, or raises ValueError to fail the task."""
    if isinstance(task_input, dict) and "fail" in task_input:
        raise ValueError(str(task_input["fail"]))
    if isinstance(task_input, dict) and isinstance(task_input.get("numbers"), list):
        return {"sum": sum(task_input["numbers"]), "worker": worker}
    return {"echo": task_input, "worker": worker}


def run(sfn, activity_arn, worker, max_tasks):
    done = 0
    while max_tasks is None or done < max_tasks:
        task = sfn.get_activity_task(activityArn=activity_arn, workerName=worker)
        token = task.get("taskToken")
        if not token:
            continue  # the long poll ended without a task: ask again
        task_input = json.loads(task.get("input") or "null")
        # Long work would heartbeat regularly; once shows how.
        sfn.send_task_heartbeat(taskToken=token)
        try:
            output = work(task_input, worker)
        except ValueError as e:
            sfn.send_task_failure(taskToken=token, error="WorkerError", cause=str(e))
            print(f"{worker}: failed a task: {e}", flush=True)
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps(output))
            print(f"{worker}: done: {json.dumps(output)}", flush=True)
        done += 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--activity-arn", required=True)
    p.add_argument(
        "--endpoint", default=os.environ.get("STEPWISE_ENDPOINT", "http://localhost:8083")
    )
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    p.add_argument("--worker-name", default=f"{socket.gethostname()}-{os.getpid()}")
    p.add_argument("--max-tasks", type=int, default=None)
    args = p.parse_args()
    sfn = client(args.endpoint, args.region)
    try:
        run(sfn, args.activity_arn, args.worker_name, args.max_tasks)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
