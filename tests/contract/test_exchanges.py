"""What the collection really sent and received in the integration tests, against the vendor SDK.

The integration tests run with MODELARTS_CONTRACT_DIR set (make integration does it); every
simulator they start hands over its audit log (every mutating request, with its body) and samples
of its answers (the first few of each route, with the query string). Here:

(a) every request body the collection sent goes through the SDK request model of its operation:
    each field is known to the model or listed in docs/api-contract.yml with another source, and
    each field the model requires is there;
(b) every answer is read with the SDK response model: each field the contract says the collection
    reads, when present in the answer, is in the model or in the contract; and
(c) every query string uses only the SDK's query parameters (or the contract's), with list
    parameters as repeated keys and no paging on the routes the SDK does not page.
"""
import json
import os
import pathlib
import re
from urllib.parse import parse_qsl

import pytest

import sdk_oracle
from conftest import REPO
from test_contract_rows import covered

AGENT = "modelarts.lite-ansible-collection"
API_SERVICES = {"modelarts": "modelarts", "evs": "evs", "ims": "ims"}  # audit api name -> contract service
DEFAULT_DIR = REPO / "build" / "contract"


def exchange_dir():
    return pathlib.Path(os.environ.get("MODELARTS_CONTRACT_DIR") or DEFAULT_DIR)


def read_lines(suffix):
    entries = []
    for path in sorted(exchange_dir().glob("*." + suffix)):
        with open(path, encoding="utf-8") as handle:
            entries.extend(json.loads(line) for line in handle if line.strip())
    return [e for e in entries if (e.get("agent") or "").startswith(AGENT)]


@pytest.fixture(scope="module")
def audit():
    entries = [e for e in read_lines("audit.jsonl") if e.get("api") in API_SERVICES]
    assert entries, ("no request of the collection in %s: run the integration tests with MODELARTS_CONTRACT_DIR "
                     "set first (make integration does)" % exchange_dir())
    return entries


@pytest.fixture(scope="module")
def samples():
    entries = read_lines("responses.jsonl")
    assert entries, "no response samples in %s (make integration writes them)" % exchange_dir()
    return entries


@pytest.fixture(scope="module")
def rows(contract):
    return [(sdk_oracle.path_regex(row["path"]), row) for row in contract["calls"]]


def row_of(rows, method, path, api="modelarts"):
    found = [row for rx, row in rows if row["method"] == method and rx.match(path)
             and row.get("service", "modelarts") == API_SERVICES.get(api, api)]
    # the most literal template wins (dev-servers/sync before dev-servers/{id})
    return min(found, key=lambda row: row["path"].count("{")) if found else None


def contract_covers(row, path):
    return any(path == extra or path.startswith(extra + ".") or path.startswith(extra + "[")
               for extra in row.get("beyond_sdk") or {})


def test_every_call_the_collection_made_has_a_contract_entry(audit, samples, rows):
    unknown = sorted({"%s %s" % (e["method"], e["path"]) for e in audit + samples
                      if e["path"].startswith(("/v1/", "/v2/", "/v3/"))
                      and not row_of(rows, e["method"], e["path"], e.get("api", "modelarts"))})
    assert unknown == [], "calls missing from docs/api-contract.yml:\n" + "\n".join(unknown)


def test_request_bodies_fit_the_sdk_request_models(audit, rows):
    problems, checked = set(), 0
    for entry in audit:
        row = row_of(rows, entry["method"], entry["path"], entry["api"])
        if row is None or not row.get("sdk") or not isinstance(entry.get("body"), dict):
            continue
        service = row.get("service", "modelarts")
        model = sdk_oracle.body_model(row["sdk"], service)
        if model is None:
            problems.add("%s: sent a body, the SDK operation %s takes none" % (row["id"], row["sdk"]))
            continue
        checked += 1
        for path, problem in sdk_oracle.walk_body(model, entry["body"], service=service):
            if problem.startswith("unknown") and contract_covers(row, normalise(path)):
                continue
            if problem.startswith("required") and path in (row.get("omits_required") or {}):
                continue
            problems.add("%s: %s %s" % (row["id"], path, problem))
    assert checked, "no request body was checked"
    assert sorted(problems) == [], "\n".join(sorted(problems))


def normalise(path):
    """walk_body writes map keys as [*]; the contract names the map itself."""
    return re.sub(r"\[\*\].*$", "", path)


def present(data, tokens):
    """True when the answer has the path (in at least one list element)."""
    if not tokens:
        return True
    head, rest = tokens[0], tokens[1:]
    if head == "[]":
        return isinstance(data, list) and any(present(item, rest) for item in data)
    return isinstance(data, dict) and head in data and present(data[head], rest)


def test_fields_the_collection_reads_are_in_the_sdk_response_models(samples, rows):
    problems, checked = set(), 0
    for sample in samples:
        row = row_of(rows, sample["method"], sample["path"], sample.get("api", "modelarts"))
        if row is None:
            continue
        for field in row.get("reads") or []:
            if present(sample["body"], sdk_oracle.tokens(field)):
                checked += 1
                if not covered(row, field, "reads"):
                    problems.add("%s reads %s: neither the SDK model nor the contract has it" % (row["id"], field))
    assert checked, "no field read was checked"
    assert sorted(problems) == [], "\n".join(sorted(problems))


def test_query_strings_use_the_sdks_parameters(samples, rows):
    problems = set()
    for sample in samples:
        row = row_of(rows, sample["method"], sample["path"], sample.get("api", "modelarts"))
        if row is None:
            continue
        pairs = parse_qsl(sample.get("query") or "", keep_blank_values=True)
        keys = [k for k, _v in pairs]
        declared = {f[1:] for f in row.get("sends") or [] if f.startswith("?")}
        for key in set(keys) - declared:
            problems.add("%s: query %s is not in the contract" % (row["id"], key))
        if row.get("paging") == "none" and {"limit", "offset"} & set(keys):
            problems.add("%s: pages a list the SDK does not page" % row["id"])
        if row.get("sdk"):
            sdk_query = sdk_oracle.operations(row.get("service", "modelarts"))[row["sdk"]]["query"]
            for key in set(keys) & declared:
                if key not in sdk_query and key not in (row.get("beyond_sdk") or {}) and "?" + key not in (row.get("beyond_sdk") or {}):
                    problems.add("%s: query %s is not an SDK parameter" % (row["id"], key))
        for key, value in pairs:
            if key in row.get("list_query", []) and "," in value:
                problems.add("%s: %s=%s is a comma list; the SDK repeats the key" % (row["id"], key, value))
    assert sorted(problems) == [], "\n".join(sorted(problems))
