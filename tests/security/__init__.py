"""Security tests: each asserts that an attack's effect did not happen."""
