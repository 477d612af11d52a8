"""Larder's load benchmark (`make bench`); never run by the test suite."""
