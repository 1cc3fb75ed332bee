"""msp benchmarks: `make bench` or `python -m benchmarks` (see docs/performance.md)."""
