"""A small shop, lint-clean and formatted."""


def add_item(item: str, basket: list[str] | None = None) -> list[str]:
    basket = [] if basket is None else basket
    basket.append(item)
    return basket


def is_missing(price: float | None) -> bool:
    return price is None
