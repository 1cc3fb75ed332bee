"""Benchmarks: plain timers in separate processes, never timed unit tests."""
