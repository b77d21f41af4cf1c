"""Helpers for the role tests: find one task's result in the json callback's output."""


def task_results(output, name):
    """Every localhost result of the tasks called `name` (a role task's name ends with it)."""
    found = []
    for play in output["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(name) and "localhost" in task["hosts"]:
                found.append(task["hosts"]["localhost"])
    return found


def changed_count(output):
    return output["stats"]["localhost"]["changed"]
