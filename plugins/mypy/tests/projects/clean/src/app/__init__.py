"""Type-clean module."""


def greet(name: str) -> str:
    return "hello " + name
