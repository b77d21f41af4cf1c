"""The Kubernetes client counts the requests it sends (the rollout's report and the bench read it)."""
import json

from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeClient


class Configuration:
    host = "https://127.0.0.1:1/k8s/pool-a"
    username = password = None

    def get_api_key_with_prefix(self, _name):
        return "Bearer token"


class Response:
    def __init__(self, status, body):
        self.status, self.data, self.headers = status, json.dumps(body).encode(), {}


class Pool:
    def __init__(self, answers):
        self.answers, self.sent = list(answers), []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url))
        return self.answers.pop(0)


def test_each_request_counted_once_by_method_retries_not_counted():
    pool = Pool([Response(503, {}), Response(200, {"items": [], "metadata": {}}), Response(200, {})])
    client = KubeClient(context="pool-a", configuration=Configuration(), pool=pool, sleep=lambda seconds: None)
    client.list_items("/api/v1/nodes")
    client.merge_patch("/api/v1/nodes/n1", {"metadata": {}})
    assert client.calls.snapshot() == {"GET": 1, "PATCH": 1} and len(pool.sent) == 3
