import pytest

from shapes import area


def test_square():
    assert area("square", 2) == 4


def test_circle():
    assert area("circle", 1) > 3


def test_other():
    with pytest.raises(ValueError):
        area("hexagon", 1)
