import pytest

from modelarts_sim.testing import start_simulator


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=1000, seed=7)
    yield handle
    assert handle.stop() == 0


@pytest.fixture
def clean_faults(sim):
    sim.clear_faults()
    yield
    sim.clear_faults()
