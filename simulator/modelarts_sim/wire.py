"""Startup switches for the wire forms on which the vendor's own sources disagree
(docs/api-contract.yml). Read once from the environment when the simulator starts.

MODELARTS_SIM_REBOOT_RESPONSE   names (default): batch-reboot answers {"nodeNames": [...]}, the SDK's
                                BatchRebootPoolNodesResponse; job: {"job_id": ...}, what Terraform reads.
MODELARTS_SIM_RESOURCES_SHAPE   list (default): status.resources.<phase> of pools and node pools are
                                lists, as in the vendor examples; object: a single object where a phase
                                has one entry, as the SDK models them.
MODELARTS_SIM_DRIFT             comma list of deliberate differences from the contract, for rehearsing
                                playbooks/region_check.yml: unknown_node_phase (nodes report phase
                                "Hibernating"), missing_pool_phase (pools carry no status.phase).
"""
import os

REBOOT_FORMS = ("names", "job")
RESOURCE_SHAPES = ("list", "object")
DRIFTS = ("unknown_node_phase", "missing_pool_phase")
UNKNOWN_NODE_PHASE = "Hibernating"


class Wire:
    def __init__(self, reboot_response="names", resources_shape="list", drift=()):
        if reboot_response not in REBOOT_FORMS:
            raise ValueError("MODELARTS_SIM_REBOOT_RESPONSE must be one of %s" % ", ".join(REBOOT_FORMS))
        if resources_shape not in RESOURCE_SHAPES:
            raise ValueError("MODELARTS_SIM_RESOURCES_SHAPE must be one of %s" % ", ".join(RESOURCE_SHAPES))
        unknown = set(drift) - set(DRIFTS)
        if unknown:
            raise ValueError("MODELARTS_SIM_DRIFT: unknown %s (known: %s)" % (", ".join(sorted(unknown)),
                                                                              ", ".join(DRIFTS)))
        self.reboot_response = reboot_response
        self.resources_shape = resources_shape
        self.drift = frozenset(drift)

    @classmethod
    def from_env(cls, environ=None):
        environ = os.environ if environ is None else environ
        return cls(environ.get("MODELARTS_SIM_REBOOT_RESPONSE") or "names",
                   environ.get("MODELARTS_SIM_RESOURCES_SHAPE") or "list",
                   [d.strip() for d in (environ.get("MODELARTS_SIM_DRIFT") or "").split(",") if d.strip()])

    def reboot_answer(self, job_id, node_names):
        return {"job_id": job_id} if self.reboot_response == "job" else {"nodeNames": node_names}

    def resources(self, by_phase):
        """status.resources in the configured shape (by_phase: {phase: [entry, ...]})."""
        if self.resources_shape == "list":
            return by_phase
        return {phase: entries[0] if len(entries) == 1 else entries for phase, entries in by_phase.items()}
