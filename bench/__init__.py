"""Benchmarks, outside the installed package: ``make bench`` runs them from the repository root.

- :mod:`bench.pivot`: pivots over ~10 million values, on SQLite and PostgreSQL;
- :mod:`bench.documents`: a provincial report with an annex row per commune, to Word and PDF.
"""
