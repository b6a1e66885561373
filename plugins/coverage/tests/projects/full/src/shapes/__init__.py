"""Shapes used as a coverage fixture."""


def area(kind: str, size: float) -> float:
    if kind == "square":
        return size * size
    if kind == "circle":
        return 3.14159 * size * size
    raise ValueError(kind)
