"""Integrations: tenantrag inside the frameworks its users build with.

The outermost layer. Each module adapts the library (``tenantrag.entrypoints``) or the HTTP
API to one framework or protocol, and each framework is an optional extra, imported only
by the module that needs it: ``import tenantrag`` never pulls one in.
"""
