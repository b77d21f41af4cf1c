"""The role names its runs with the rollout's own rule (report.new_run_id), through this lookup.

In a process of its own: importing ansible's controller plugins here would switch the module
warnings of the other unit tests in this process to the controller's display."""
import json
import re
import subprocess
import sys

PROGRAM = """
import json
from ansible_collections.modelarts.lite.plugins.lookup.rollout_run_id import LookupModule
lookup = LookupModule()
print(json.dumps(lookup.run([]) + lookup.run([])))
"""


def test_a_new_run_id_each_time_by_the_rollouts_rule():
    out = subprocess.run([sys.executable, "-c", PROGRAM], check=True, capture_output=True, text=True,
                         env={"PYTHONPATH": ":".join(p for p in sys.path if p)}).stdout
    first, second = json.loads(out)
    assert re.fullmatch(r"rollout-\d{8}t\d{6}-[0-9a-f]{6}", first), first
    assert first != second
