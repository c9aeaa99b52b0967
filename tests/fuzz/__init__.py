"""Fuzz tests (hypothesis) of the gateway's parsers, its public endpoints and the text normaliser.

`test_fuzz.py` runs every target with a small, derandomised budget in `make test`;
`python -m bench.fuzz --minutes N` runs the same targets for longer (see `targets.py`).
"""
