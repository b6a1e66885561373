"""A test that passes but whose fixture fails on teardown, and one that fails too."""

import pytest


@pytest.fixture
def resource():
    yield 1
    raise RuntimeError("could not release the resource")


def test_uses_resource(resource):
    assert resource == 1


def test_fails_and_teardown_fails(resource):
    assert resource == 2
