import shop


def test_package_imports():
    assert shop.__doc__
