import pytest

from inventory import Inventory, OutOfStock


def test_add_and_count() -> None:
    inv = Inventory()
    assert inv.add("apple", 3) == 3
    assert inv.add("apple") == 4
    assert inv.count("apple") == 4
    assert inv.count("pear") == 0


def test_take() -> None:
    inv = Inventory()
    inv.add("apple", 2)
    assert inv.take("apple") == 1
    with pytest.raises(OutOfStock):
        inv.take("apple", 5)


def test_total_and_bad_count() -> None:
    inv = Inventory()
    inv.add("apple", 2)
    inv.add("pear", 5)
    assert inv.total() == 7
    with pytest.raises(ValueError):
        inv.add("apple", 0)
