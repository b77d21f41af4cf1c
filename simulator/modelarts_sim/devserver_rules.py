"""What the simulated Lite Server API's parts share: operation durations, the status machine's
allowed-operations table (the Lite Server guide's), seedable values, and the v1 refusals."""
import re

from .cloud_base import ApiError

START_SECONDS = 120
STOP_SECONDS = 90
REBOOT_SECONDS = 300
CHANGEOS_SECONDS = 15 * 60
REINSTALLOS_SECONDS = 10 * 60
CREATE_SECONDS = 10 * 60
DELETE_SECONDS = 3 * 60
REPAIR_SCHEDULE_SECONDS = 60
REPAIR_SECONDS = 15 * 60
JOB_SECONDS = 30 * 60
AZ_PATTERN = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+[a-z]$")

# action -> (statuses it is allowed from, transitional status, status on success, status on failure, seconds)
ACTIONS = {
    "start": (("STOPPED", "START_FAILED"), "STARTING", "RUNNING", "START_FAILED", START_SECONDS),
    "stop": (("RUNNING", "STOP_FAILED"), "STOPPING", "STOPPED", "STOP_FAILED", STOP_SECONDS),
    "reboot": (("RUNNING", "ERROR", "REBOOT_FAILED", "START_FAILED", "STOP_FAILED"), "REBOOTING", "RUNNING",
               "REBOOT_FAILED", REBOOT_SECONDS),
    "changeos": (("STOPPED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED"), "CHANGINGOS", "RUNNING",
                 "CHANGINGOS_FAILED", CHANGEOS_SECONDS),
    "reinstallos": (("STOPPED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED"), "REINSTALLINGOS", "RUNNING",
                    "REINSTALLINGOS_FAILED", REINSTALLOS_SECONDS),
}
TRANSITIONAL = ("CREATING", "STARTING", "STOPPING", "REBOOTING", "CHANGINGOS", "REINSTALLINGOS", "DELETING")
STATUSES = TRANSITIONAL + ("RUNNING", "STOPPED", "ERROR", "CREATE_FAILED", "DELETE_FAILED", "START_FAILED",
                           "STOP_FAILED", "REBOOT_FAILED", "CHANGINGOS_FAILED", "REINSTALLINGOS_FAILED")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
EVENT_TYPES = ("system-maintenance", "localdisk-recovery", "node_reboot", "operation-request", "node_maintenance",
               "node_redeploy", "node_localdisk_recovery")
EVENT_STATES = ("inquiring", "scheduled", "executing", "completed", "failed", "canceled")


def not_found(what, ident):
    return ApiError(400, "ModelArts.6404", "%s %s does not exist." % (what, ident))


def bad(message):
    return ApiError(400, "ModelArts.6400", message)


def not_allowed(message):
    # [EMU] the reference gives no code for "operation not allowed in this status".
    return ApiError(400, "ModelArts.6410", message)


def allowed_now(status):
    actions = [a for a, spec in ACTIONS.items() if status in spec[0]]
    return ", ".join(actions) or "none until the current operation ends"
