import pytest

from modelarts_sim.testing import start_simulator


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # A stopped clock: tests move it with sim.advance(), so no assertion races the wall clock.
    handle = start_simulator(tmp_path_factory.mktemp("sim"), time_scale=0, seed=7)
    yield handle
    assert handle.stop() == 0


@pytest.fixture
def clean_faults(sim):
    sim.clear_faults()
    yield
    sim.clear_faults()
