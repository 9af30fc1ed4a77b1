"""The ``tenantrag`` command: operators' tooling over the same container as the HTTP API.

Commands act as the system principal (``Principal.system()``): whoever can run them on
the machine that holds the database URL is trusted, as with ``psql``. ``main.app`` is the
Typer application; each module holds the commands of one concept.
"""
