"""Built-in connectors, one module per transport.

Each is registered under the ``bridge.connectors`` entry point group in
``pyproject.toml``; third-party packages register theirs the same way.
"""
