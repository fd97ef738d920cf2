import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: the randomised fault harness (tests/faults), a few minutes")
