"""One demo stack (examples/tests/stack.py) for every wallet end-to-end test: starting it is the slow part."""

import pytest

from examples.tests.stack import run_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    yield from run_stack(tmp_path_factory.mktemp("demo"))
