"""Benchmarks of the kit (``make bench``): each ``bench_*.py`` module has ``main(argv)``."""
