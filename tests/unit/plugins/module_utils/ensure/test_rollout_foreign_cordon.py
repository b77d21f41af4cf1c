"""How the rollout plan words a node cordoned by other hands than a rollout's."""
import pytest

from ansible_collections.modelarts.lite.plugins.module_utils.ensure.rollout import machine as M
from ansible_collections.modelarts.lite.plugins.module_utils.k8s import labels as L


def cordoned(annotations):
    return {"metadata": {"name": "n", "annotations": annotations}, "spec": {"unschedulable": True}}


@pytest.mark.parametrize("annotations, wording", [
    ({L.CORDONED_BY: L.DEFAULT_OWNER, L.CORDON_REASON: "maintenance"},
     "cordoned with modelarts.lite.lite_node (reason: maintenance), not by a rollout; it is left alone until "
     "lite_node uncordons it"),
    ({L.CORDONED_BY: L.DEFAULT_OWNER}, "cordoned with modelarts.lite.lite_node, not by a rollout; it is left alone "
                                       "until lite_node uncordons it"),
    ({L.CORDONED_BY: "team-b"}, "cordoned by team-b, not by a rollout; it is left alone"),
    ({}, "cordoned by somebody else (no modelarts.lite/cordoned-by annotation); it is left alone"),
])
def test_a_foreign_cordon_names_who_holds_it(annotations, wording):
    node = cordoned(annotations)
    assert not M.cordoned_by_rollout(node)
    assert M.foreign_cordon(node) == wording
