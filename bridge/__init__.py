"""lapor-bridge: sync public-service complaints between SP4N-LAPOR! and local doors."""

__version__ = "0.1.0"
