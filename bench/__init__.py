"""Benchmarks: `make bench-chat`, `make bench-media`. Results go to docs/benchmarks.md."""
