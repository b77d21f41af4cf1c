"""The three patch formats the API server accepts: JSON merge, strategic merge and JSON patch.

Strategic merge follows the patch strategies of the built-in types this simulator serves: lists
with a merge key (containers by name, conditions by type, ownerReferences by uid, ...) merge item
by item, `finalizers` merges as a set, every other list is replaced (`spec.taints` included, which
is why kubectl taint always sends the whole list). Directives `$patch`, `$retainKeys`,
`$setElementOrder/...` and `$deleteFromPrimitiveList/...` are honoured.
"""
import copy
from typing import Any, List

from .status import StatusError, unsupported_media_type

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# List field name -> merge key, for the list fields of the served kinds that have patchStrategy=merge.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "ports": "containerPort", "hostAliases": "ip",
    "conditions": "type", "addresses": "type", "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}
PRIMITIVE_SET_LISTS = {"finalizers", "podCIDRs"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field_name = key.split("/", 1)[1]
            result[field_name] = [v for v in result.get(field_name) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = strategic_merge_patch(result.get(key), value)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    retain = patch.get("$retainKeys")
    if retain is not None:
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(field_name: str, original: Any, patch: List[Any]) -> List[Any]:
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    merge_key = MERGE_KEYS.get(field_name)
    if merge_key and all(isinstance(item, dict) for item in patch):
        result = copy.deepcopy(original) if isinstance(original, list) else []
        for item in patch:
            position = next((i for i, existing in enumerate(result)
                             if isinstance(existing, dict) and existing.get(merge_key) == item.get(merge_key)),
                            None)
            if item.get("$patch") == "delete":
                if position is not None:
                    del result[position]
            elif position is None:
                result.append(strategic_merge_patch({}, item))
            else:
                result[position] = strategic_merge_patch(result[position], item)
        return result
    if field_name in PRIMITIVE_SET_LISTS:
        result = list(original) if isinstance(original, list) else []
        result.extend(v for v in patch if v not in result)
        return result
    return copy.deepcopy(patch)


# ---- RFC 6902 JSON patch --------------------------------------------------------------------------

def _patch_error(message: str) -> StatusError:
    return StatusError(422, "Invalid", f"the server rejected our request due to an error in our request: {message}")


def _pointer(path: str) -> List[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _patch_error(f'invalid JSON pointer "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(document: Any, tokens: List[str]) -> Any:
    current = document
    for token in tokens:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise _patch_error(f'path "/{"/".join(tokens)}" does not exist')
    return current


def _add(document: Any, tokens: List[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _resolve(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _patch_error(f'index "{last}" out of range')
    else:
        raise _patch_error(f'cannot add to "/{"/".join(tokens)}"')
    return document


def _remove(document: Any, tokens: List[str]) -> Any:
    if not tokens:
        raise _patch_error("cannot remove the whole document")
    parent = _resolve(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _patch_error(f'path "/{"/".join(tokens)}" does not exist')


def json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise _patch_error("a JSON patch must be a list of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise _patch_error(f"malformed operation {operation!r}")
        op, tokens = operation["op"], _pointer(operation["path"])
        if op == "add":
            result = _add(result, tokens, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(result, tokens)
        elif op == "replace":
            _resolve(result, tokens)
            if tokens:
                _remove(result, tokens)
            result = _add(result, tokens, copy.deepcopy(operation.get("value")))
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = copy.deepcopy(_resolve(result, source))
            if op == "move":
                _remove(result, source)
            result = _add(result, tokens, value)
        elif op == "test":
            if _resolve(result, tokens) != operation.get("value"):
                raise _patch_error(f'test operation for path "{operation["path"]}" failed')
        else:
            raise _patch_error(f'unknown operation "{op}"')
    return result


def apply_patch(content_type: str, original: dict, patch: Any) -> dict:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == MERGE_PATCH:
        result = merge_patch(original, patch)
    elif media == STRATEGIC_MERGE_PATCH:
        result = strategic_merge_patch(original, patch)
    elif media == JSON_PATCH:
        result = json_patch(original, patch)
    else:
        raise unsupported_media_type(content_type)
    if not isinstance(result, dict):
        raise _patch_error("the patched object is not a JSON object")
    return result
