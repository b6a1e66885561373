"""A tiny calculator used as a pytest fixture project."""


def add(a: int, b: int) -> int:
    return a + b


def div(a: int, b: int) -> float:
    return a / b
