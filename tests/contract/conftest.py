"""The contract tests: docs/api-contract.yml against the vendor SDK (a test oracle, imported once)."""
import pathlib

import pytest

import sdk_oracle

REPO = pathlib.Path(__file__).resolve().parents[2]
CONTRACT_PATH = REPO / "docs" / "api-contract.yml"


@pytest.fixture(scope="session")
def contract():
    return sdk_oracle.load_contract(CONTRACT_PATH)
