"""Test harnesses: servers, fixtures and clusters the tests start (``from harness.x import ...``)."""
