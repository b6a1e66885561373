import pytest

from calc import add, div


def test_add():
    assert add(2, 2) == 4


def test_add_wrong():
    print("about to check")
    assert add(2, 2) == 5


class TestDiv:
    def test_div(self):
        assert div(6, 3) == 2

    def test_div_zero(self):
        assert div(1, 0) == 0


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_uses_broken(broken):
    assert broken


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert add(1, 1) == 3
