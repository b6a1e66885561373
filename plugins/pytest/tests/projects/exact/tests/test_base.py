"""Checks shared by every shape: defined once here, collected through each subclass."""


class ShapeChecks:
    sides = 0

    def test_sides_positive(self):
        assert self.sides > 0

    def test_sides_even(self):
        assert self.sides % 2 == 0, f"{self.sides} sides"


class TestSquare(ShapeChecks):
    sides = 4
