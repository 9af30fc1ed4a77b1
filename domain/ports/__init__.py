"""Ports: the interfaces the use cases need from the outside world."""
