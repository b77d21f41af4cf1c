"""The role names its runs with the rollout's own rule (report.new_run_id), through this lookup."""
import re

from ansible_collections.modelarts.lite.plugins.lookup.rollout_run_id import LookupModule


def test_a_new_run_id_each_time_by_the_rollouts_rule():
    lookup = LookupModule()
    first, second = lookup.run([])[0], lookup.run([])[0]
    assert re.fullmatch(r"rollout-\d{8}t\d{6}-[0-9a-f]{6}", first), first
    assert first != second
