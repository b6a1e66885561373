"""Module with type errors on purpose."""


def greet(name: str) -> str:
    return "hello " + name


def count() -> int:
    return greet(3)


value: int = "seven"
