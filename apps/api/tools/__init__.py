"""Command-line tooling: `make run`'s boot, the embedded PostgreSQL, the demo data generator, the
`flask` commands. Never imported by the request path (create_app loads the commands lazily)."""
