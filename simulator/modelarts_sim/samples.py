"""Samples of the answers the simulator gave, for the contract test (tests/contract).

Off unless MODELARTS_SIM_SAMPLE_RESPONSES=N is set at start: then the first N successful answers
of each (method, route, set of query keys) go to DIR/responses.jsonl with the request's path and query, so the
contract test can read every response shape the integration tests met against the vendor SDK's
response models, and every query string against the SDK's query parameters.
"""
import json
import os
import threading

ENV = "MODELARTS_SIM_SAMPLE_RESPONSES"


class ResponseSamples:
    def __init__(self, state_dir, per_route):
        self.path = os.path.join(state_dir, "responses.jsonl")
        self.per_route = per_route
        self.counts = {}
        self.lock = threading.Lock()

    @classmethod
    def for_world(cls, world):
        """The simulator's one sampler (ModelArts, EVS and IMS share its file), or None when off."""
        if not hasattr(world, "response_samples"):
            per_route = int(os.environ.get(ENV) or 0)
            world.response_samples = cls(world.state_dir, per_route) if per_route > 0 else None
        return world.response_samples

    def record(self, request, route, status, body, api="modelarts"):
        if not 200 <= status < 300:
            return
        key = (api, request.method, route, tuple(sorted({k for k, _v in request.query})))  # each query form too
        with self.lock:
            if self.counts.get(key, 0) >= self.per_route:
                return
            self.counts[key] = self.counts.get(key, 0) + 1
            line = json.dumps({"api": api, "method": request.method, "route": route, "path": request.path,
                               "query": request.raw_query, "agent": request.header("user-agent"), "status": status, "body": json.loads(body) if body else None})
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
