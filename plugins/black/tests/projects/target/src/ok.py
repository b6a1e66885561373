def ok(x: int) -> int:
    return x
