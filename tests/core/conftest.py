"""Small real datasets with members fitted the way the engine fits them (see model_factories)."""

import pytest

from tests.core import model_factories as mf


@pytest.fixture(scope="module")
def penguins():
    return mf.penguins()


@pytest.fixture(scope="module")
def cancer():
    return mf.breast_cancer()


@pytest.fixture(scope="module")
def diabetes():
    return mf.diabetes()
