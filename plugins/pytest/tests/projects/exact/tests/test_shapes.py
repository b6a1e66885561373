"""Subclasses in another module: pytest collects the inherited tests here."""

from tests.test_base import ShapeChecks


class TestTriangle(ShapeChecks):
    sides = 3


class TestPentagon(ShapeChecks):
    sides = 5
