#!/usr/bin/env python3
"""Validates every event the mock's GPT-Live side sends against the official Python SDK's
Live server event union (`openai.types.live.ServerEvent`), outside CI (it needs Python and
the SDK, which the project never depends on).

Usage, from the workspace root:

    python3 -m venv /tmp/live-venv && /tmp/live-venv/bin/pip install openai==3.57.0
    /tmp/live-venv/bin/python .ci/live-mock-sdk-check.py

It runs `tests/live_mock.rs` with `LIVE_MOCK_EVENTS` set, so each test appends the frames its
mock sessions sent (one JSON object a line), then checks each frame:

1. it validates as a member of the union, and as the member its `type` names;
2. no model on the way has members it does not declare (`model_extra`), so the mock invents
   no field (the SDK's models accept extra members silently);
3. the SDK's `to_dict()` of the parsed event equals the frame, so nothing was coerced.

Exits 1 on the first kind of failure it prints; prints a count per event type on success.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

try:
    import pydantic
    from openai import BaseModel
    from openai.types.live import ServerEvent
except ImportError as error:  # pragma: no cover
    sys.exit(f"needs openai==3.57.0 in this interpreter ({error}); see the docstring")


def extras(model, path="$"):
    """Paths of members a model keeps without declaring them."""
    found = []
    if isinstance(model, BaseModel):
        for name in model.model_extra or {}:
            found.append(f"{path}.{name}")
        for name in type(model).model_fields:
            found.extend(extras(getattr(model, name), f"{path}.{name}"))
    elif isinstance(model, list):
        for i, item in enumerate(model):
            found.extend(extras(item, f"{path}[{i}]"))
    return found


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as scratch:
        dump = os.path.join(scratch, "live-mock-events.jsonl")
        env = dict(os.environ, LIVE_MOCK_EVENTS=dump)
        command = [
            "cargo", "test", "-p", "openai-realtime-api", "--features", "mock-server",
            "--test", "live_mock", "--", "--test-threads=1",
        ]
        subprocess.run(command, cwd=root, env=env, check=True)
        with open(dump) as f:
            frames = [line for line in f.read().splitlines() if line.strip()]

    adapter = pydantic.TypeAdapter(ServerEvent)
    failures = []
    counts = collections.Counter()
    for frame in frames:
        event = json.loads(frame)
        try:
            parsed = adapter.validate_python(event)
        except pydantic.ValidationError as error:
            failures.append(f"does not validate: {frame[:200]}\n{error}")
            continue
        declared = type(parsed).model_fields["type"].annotation
        if event["type"] not in getattr(declared, "__args__", ()):
            failures.append(f"parsed as {type(parsed).__name__}: {frame[:200]}")
        unknown = extras(parsed)
        if unknown:
            failures.append(f"members the SDK does not declare {unknown}: {frame[:200]}")
        if parsed.to_dict() != event:
            failures.append(f"to_dict() differs: {frame[:200]}\n{parsed.to_dict()}")
        counts[event["type"]] += 1

    if not frames:
        failures.append("the tests wrote no frames")
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(frames)} frames, {len(counts)} event types, {len(failures)} failures")
    for kind, n in sorted(counts.items()):
        print(f"  {n:6}  {kind}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
