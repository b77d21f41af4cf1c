"""The informer behind the rolling upgrade: list, follow the watch, resume, re-list on 410, and never
serve a cache it cannot vouch for."""
import threading
import time

from ansible_collections.modelarts.lite.plugins.module_utils.errors import TransportError
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import watch as kwatch
from ansible_collections.modelarts.lite.plugins.module_utils.k8s.client import KubeApiError


def node(name, version, ready="True"):
    return {"metadata": {"name": name, "resourceVersion": str(version)},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


class ScriptedKube:
    """Lists answer from ``lists``; each watch request plays the next script: a list of events,
    or an exception raised after them. When the scripts run out, the watch blocks until stopped."""

    def __init__(self, lists, scripts):
        self.lists = list(lists)
        self.scripts = list(scripts)
        self.list_queries = []
        self.watch_versions = []
        self.idle = threading.Event()

    def get(self, path, query=None):
        self.list_queries.append(query)
        return self.lists.pop(0)

    def watch_events(self, path, query, read_timeout):
        self.watch_versions.append(query["resourceVersion"])
        if not self.scripts:
            self.idle.set()
            while True:
                time.sleep(0.01)
                yield {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": query["resourceVersion"]}}}
        script = self.scripts.pop(0)
        for item in script:
            if isinstance(item, Exception):
                raise item
            yield item


def run_until_idle(watch, kube):
    watch.start()
    assert kube.idle.wait(5), "the watch did not reach the end of its script"
    return watch


def test_list_then_follow_events_in_order():
    kube = ScriptedKube(
        [{"metadata": {"resourceVersion": "10"}, "items": [node("a", 5), node("b", 6)]}],
        [[{"type": "MODIFIED", "object": node("a", 11, ready="False")},
          {"type": "ADDED", "object": node("c", 12)},
          {"type": "DELETED", "object": node("b", 13)},
          {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "14"}}}]])
    watch = run_until_idle(kwatch.Watch(kube, "/api/v1/nodes", sleep=lambda s: None), kube)
    names = {n["metadata"]["name"]: n for n in watch.snapshot()}
    watch.stop()
    assert sorted(names) == ["a", "c"]
    assert names["a"]["status"]["conditions"][0]["status"] == "False"
    # Resumed from the list's version, then from the bookmark's after the server ended the stream.
    assert kube.watch_versions == ["10", "14"]


def test_410_gone_lists_again_and_the_cache_is_replaced():
    kube = ScriptedKube(
        [{"metadata": {"resourceVersion": "10"}, "items": [node("a", 5)]},
         {"metadata": {"resourceVersion": "50"}, "items": [node("z", 49)]}],
        [[{"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                       "message": "too old resource version"}}]])
    watch = run_until_idle(kwatch.Watch(kube, "/api/v1/nodes", sleep=lambda s: None), kube)
    names = sorted(n["metadata"]["name"] for n in watch.snapshot())
    watch.stop()
    assert names == ["z"]
    assert kube.watch_versions == ["10", "50"]


def test_a_broken_watch_serves_no_cache_until_it_has_listed_again():
    resumed = threading.Event()
    seen_while_broken = []

    class Kube(ScriptedKube):
        def get(self, path, query=None):
            if len(self.list_queries) == 1:          # the re-list after the error
                seen_while_broken.append(watch.snapshot())
            resumed.set()
            return super().get(path, query)

    kube = Kube([{"metadata": {"resourceVersion": "10"}, "items": [node("a", 5)]},
                 {"metadata": {"resourceVersion": "20"}, "items": [node("a", 19)]}],
                [[TransportError("GET", "/api/v1/nodes", "watch broke: connection reset")]])
    changes = threading.Event()
    watch = kwatch.Watch(kube, "/api/v1/nodes", changed=changes, sleep=lambda s: None)
    run_until_idle(watch, kube)
    snapshot = watch.snapshot()
    watch.stop()
    assert seen_while_broken == [None]                  # the caller polled for itself meanwhile
    assert watch.errors == 1 and changes.is_set()
    assert [n["metadata"]["resourceVersion"] for n in snapshot] == ["19"]


def test_wake_only_watch_never_loads_the_collection_and_wakes_on_relevant_events():
    kube = ScriptedKube([{"metadata": {"resourceVersion": "7"}, "items": [{"metadata": {"name": "p0"}}]}],
                        [[{"type": "MODIFIED", "object": {"metadata": {"name": "p1", "resourceVersion": "8"}}}]])
    changes = threading.Event()
    wakes = []

    def relevant(event_type, old, new):
        wakes.append(event_type)
        return event_type == "DELETED"

    watch = kwatch.Watch(kube, "/api/v1/pods", cache=False, relevant=relevant, changed=changes,
                         sleep=lambda s: None)
    watch.start()
    changes.clear()                                      # the initial sync's wake-up
    assert kube.idle.wait(5)
    watch.stop()
    assert kube.list_queries == [{"limit": 1}]
    assert watch.snapshot() is None                      # nothing cached: the caller lists what it needs
    assert wakes == ["MODIFIED"] and not changes.is_set()


def test_newer_compares_resource_versions_and_prefers_the_watch_when_unsure():
    assert kwatch.newer(node("a", 12), node("a", 11))
    assert not kwatch.newer(node("a", 11), node("a", 11))
    assert not kwatch.newer(None, node("a", 11))
    assert not kwatch.newer({"metadata": {"resourceVersion": "x1"}}, node("a", 11))


def test_a_410_from_the_watch_request_itself_lists_again():
    kube = ScriptedKube(
        [{"metadata": {"resourceVersion": "10"}, "items": []},
         {"metadata": {"resourceVersion": "30"}, "items": [node("n", 29)]}],
        [[KubeApiError(410, "Expired", "too old", None, "GET", "/api/v1/nodes")]])
    watch = run_until_idle(kwatch.Watch(kube, "/api/v1/nodes", sleep=lambda s: None), kube)
    watch.stop()
    assert watch.errors == 0 and kube.watch_versions == ["10", "30"]
