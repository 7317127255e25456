#!/usr/bin/env python3
"""A command Lambda: reads the event on stdin, writes the result on stdout."""
import json
import os
import sys

event = json.load(sys.stdin)
name = event.get("name") if isinstance(event, dict) else None
if not name:
    # An error object on stdout is a function error: the task fails with errorType.
    print(json.dumps({"errorType": "MissingName", "errorMessage": "the event has no name"}))
else:
    print(json.dumps({"message": f"{os.environ.get('GREETING', 'Hi')}, {name}!"}))
