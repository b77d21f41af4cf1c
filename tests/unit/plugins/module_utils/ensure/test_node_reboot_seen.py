"""lite_node after a batch-reboot that answered without a job id: the reboot must be seen before
anything goes on (docs/api-contract.yml, batch_reboot_nodes)."""
import types

import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure import node as engine
from ansible_collections.modelarts.lite.plugins.module_utils.errors import OperationFailedError, WaitTimeoutError
from ansible_collections.modelarts.lite.plugins.module_utils.waiting import Deadline

TARGET = types.SimpleNamespace(name="os-node-1", kube_name="192.168.0.2")
CLIENTS = types.SimpleNamespace(cloud=types.SimpleNamespace(poll_interval=0.01), kube=object())


def kube_node(boot_id, ready=True):
    return {"metadata": {"name": TARGET.kube_name},
            "status": {"nodeInfo": {"bootID": boot_id},
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def record(phase="Available"):
    return {"metadata": {"name": TARGET.name}, "status": {"phase": phase}}


def serve(monkeypatch, records, nodes):
    """The service answers from these sequences (the last answer repeats)."""
    records, nodes = list(records), list(nodes)
    monkeypatch.setattr(engine.api, "get_node",
                        lambda *_a: records.pop(0) if len(records) > 1 else records[0])
    monkeypatch.setattr(engine.knodes, "get_node", lambda *_a: nodes.pop(0) if len(nodes) > 1 else nodes[0])


@pytest.mark.parametrize("records, nodes", [
    ([record()], [kube_node("boot-1"), kube_node("boot-2")]),                  # back already, with a new boot ID
    ([record()], [kube_node("boot-1"), kube_node("boot-1", ready=False)]),    # going down
    ([record(), record("Checking")], [kube_node("boot-1")]),                  # ModelArts says it is busy
])
def test_the_reboot_is_seen(monkeypatch, records, nodes):
    serve(monkeypatch, records, nodes)
    engine._wait_reboot_seen(CLIENTS, "pool-1", TARGET, "boot-1", Deadline(5))


def test_an_accepted_reboot_that_never_shows_is_a_timeout_not_done(monkeypatch):
    serve(monkeypatch, [record()], [kube_node("boot-1")])
    with pytest.raises(WaitTimeoutError) as caught:
        engine._wait_reboot_seen(CLIENTS, "pool-1", TARGET, "boot-1", Deadline(0.1))
    assert "without a job id" in str(caught.value) and "stays cordoned" in str(caught.value)


def test_a_node_that_disappears_fails_the_wait(monkeypatch):
    serve(monkeypatch, [None], [kube_node("boot-1")])
    with pytest.raises(OperationFailedError, match="disappeared"):
        engine._wait_reboot_seen(CLIENTS, "pool-1", TARGET, "boot-1", Deadline(5))
