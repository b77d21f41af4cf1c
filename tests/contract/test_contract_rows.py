"""docs/api-contract.yml against the vendor SDK and against the client code.

Every HTTP call in plugins/module_utils/cloud/ has an entry; every entry that names an SDK
operation has that operation's method and path; every field it sends or reads is in the SDK model
or listed under beyond_sdk with its source; every entry short of "two sources" says what the code
does when the service disagrees.
"""
import ast
import re

import pytest

import sdk_oracle
from conftest import REPO

CLOUD = REPO / "plugins" / "module_utils" / "cloud"
CONFIDENCE = ("two sources", "one source", "inferred")


def calls(contract):
    return contract["calls"]


def covered(row, field, kind):
    """True when ``field`` is declared by the SDK or by a beyond_sdk entry (itself or a parent)."""
    if field.startswith("?"):
        return True  # query parameters are checked by test_query_parameters_are_the_sdks
    service = svc(row)
    op = sdk_oracle.operations(service).get(row.get("sdk") or "")
    if op:
        model = sdk_oracle.body_model(row["sdk"], service) if kind == "sends" else op["response"]
        if model and sdk_oracle.resolve(model, field, service):
            return True
    return any(field == extra or field.startswith(extra + ".") or field.startswith(extra + "[")
               for extra in row.get("beyond_sdk") or {})


def svc(row):
    return row.get("service", "modelarts")


def client_calls():
    """{module.function} for every function in cloud/pools.py and cloud/servers.py that makes an HTTP call."""
    found = set()
    for name in ("pools", "servers", "evs", "ims"):
        tree = ast.parse((CLOUD / ("%s.py" % name)).read_text())
        helpers = set()
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef) or fn.name in helpers or fn.name.startswith("_"):
                continue
            source = ast.unparse(fn)
            if re.search(r"client\.(request|paginate_\w+)\(|_batch\(|_unpaged\(|_request\(", source):
                found.add("%s.%s" % (name, fn.name))
    return found


def test_every_http_call_of_the_client_has_exactly_one_entry(contract):
    listed = [row["client"] for row in calls(contract)]
    assert len(listed) == len(set(listed)), "an entry is listed twice"
    missing = client_calls() - set(listed)
    assert not missing, "calls without a contract entry: %s" % sorted(missing)
    stale = {c for c in listed if not c.startswith("client.")} - client_calls()
    assert not stale, "entries for calls the client no longer makes: %s" % sorted(stale)


@pytest.mark.parametrize("field", ["id", "client", "method", "path", "ref", "reads", "confidence"])
def test_every_entry_has_its_fields(contract, field):
    assert [row.get("id") for row in calls(contract) if field not in row] == []


def test_confidence_and_what_happens_when_the_service_disagrees(contract):
    for row in calls(contract):
        assert row["confidence"] in CONFIDENCE, row["id"]
        if row["confidence"] != "two sources":
            assert len(row.get("if_disagrees") or "") > 20, "%s: say what the code does if the service disagrees" % row["id"]
        if row["confidence"] == "two sources":
            assert (row.get("sdk") and (row.get("tf") or row.get("ref"))) or (row.get("tf") and row.get("ref")), \
                "%s claims two sources but names fewer" % row["id"]


def test_sdk_operations_have_the_method_and_path_of_the_entry(contract):
    for row in calls(contract):
        if row.get("sdk"):
            op = sdk_oracle.operations(svc(row)).get(row["sdk"])
            assert op, "%s: the SDK has no operation %s" % (row["id"], row["sdk"])
            assert (op["method"], op["path"]) == (row["method"], row["path"]), row["id"]


def test_entries_without_an_sdk_operation_really_have_none(contract):
    for row in calls(contract):
        if not row.get("sdk") and row["path"].startswith(("/v1/", "/v2/")):
            concrete = re.sub(r"\{[^}]+\}", "x", row["path"])
            found = sdk_oracle.match_operation(row["method"], concrete, svc(row))
            assert found is None, "%s: the SDK has %s" % (row["id"], found)


def test_every_field_sent_or_read_is_in_the_sdk_or_has_another_source(contract):
    problems = []
    for row in calls(contract):
        for kind in ("sends", "reads"):
            for field in row.get(kind) or []:
                if not covered(row, field, kind):
                    problems.append("%s %s %s" % (row["id"], kind, field))
    assert problems == [], "\n".join(problems)


def uses(fields, extra):
    return any(f == extra or f.startswith(extra + ".") or f.startswith(extra + "[") for f in fields or [])


def test_beyond_sdk_entries_are_really_beyond_the_sdk(contract):
    """A beyond_sdk entry for a field the SDK has is stale: it would hide a real disagreement."""
    stale = []
    for row in calls(contract):
        service = svc(row)
        op = sdk_oracle.operations(service).get(row.get("sdk") or "")
        if not op:
            continue
        body = sdk_oracle.body_model(row["sdk"], service)
        for field in row.get("beyond_sdk") or {}:
            in_body = bool(body) and sdk_oracle.resolve(body, field, service)
            in_answer = sdk_oracle.resolve(op["response"], field, service)
            sent, read = uses(row.get("sends"), field), uses(row.get("reads"), field)
            if (sent or read) and (not sent or in_body) and (not read or in_answer):
                stale.append("%s %s" % (row["id"], field))
    assert stale == [], "\n".join(stale)


def test_query_parameters_are_the_sdks(contract):
    problems = []
    for row in calls(contract):
        op = sdk_oracle.operations(svc(row)).get(row.get("sdk") or "")
        if not op:
            continue
        for field in row.get("sends") or []:
            if field.startswith("?") and field[1:] not in op["query"] and field[1:] not in (row.get("beyond_sdk") or {}):
                problems.append("%s %s" % (row["id"], field))
    assert problems == [], "\n".join(problems)


def test_required_reads_are_fields_the_entry_reads(contract):
    for row in calls(contract):
        assert set(row.get("required_reads") or []) <= set(row["reads"]), row["id"]


def test_status_values_are_fields_the_entry_reads(contract):
    for row in calls(contract):
        for field, values in (row.get("statuses") or {}).items():
            base = field[:-2] if field.endswith(".*") else field
            assert base in row["reads"], "%s: statuses of %s, which it does not read" % (row["id"], field)
            assert values and all(isinstance(v, str) for v in values)
