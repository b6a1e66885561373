from calc import add, div


def test_add():
    assert add(2, 2) == 4


def test_div():
    assert div(6, 3) == 2
