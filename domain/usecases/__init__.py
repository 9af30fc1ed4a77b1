"""Use cases: what callers can do, each a method on a small service over the ports."""
