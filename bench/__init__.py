"""Benchmarks: ``python -m bench.run`` writes bench/results/latest.json."""
