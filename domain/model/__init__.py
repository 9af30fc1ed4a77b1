"""Entities and value objects. Each validates its own invariants on construction
(including ``attrs.evolve``), so an invalid entity cannot exist."""
