"""Running the bridge as a service (being filled: see the next commit)."""
