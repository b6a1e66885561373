from shapes import area


def test_square():
    assert area("square", 2) == 4
