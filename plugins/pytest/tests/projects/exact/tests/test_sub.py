"""pytest 9 subtests: each failing subtest is reported by pytest on its own."""


def test_squares(subtests):
    for n in range(4):
        with subtests.test(msg="square", n=n):
            assert n * n != 4
