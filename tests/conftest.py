"""Root test configuration: registers ``--backend`` so ``pytest --backend pynn:nest`` works from the
repository root (tests/parity/conftest.py reads it)."""


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", default=None,
                     help="parity backend(s) to run, e.g. torch:exact, pynn:nest (repeat or comma-separate)")
