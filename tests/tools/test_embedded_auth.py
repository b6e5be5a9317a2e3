"""The embedded PostgreSQL (make run, tests, bench) asks every connection for a generated password (SCRAM):
another local user reaches 127.0.0.1 too, and must not be a superuser there for the asking (issue 20)."""
import stat

import psycopg2
import pytest

from apps.api.tools.embedded_pg import EmbeddedPostgres


def _refused_without_the_password(server):
    for url in (f"postgresql://postgres@127.0.0.1:{server.port}/postgres",
                f"postgresql://postgres:guess@127.0.0.1:{server.port}/postgres"):
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(url, connect_timeout=5)


def test_the_test_server_asks_for_its_generated_password(pg_server):
    server = pg_server.embedded
    if server is None:
        pytest.skip("TEST_DATABASE_URL: not an embedded server")
    _refused_without_the_password(server)
    assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
    assert server.password in server.url() and len(server.password) >= 32
    psycopg2.connect(server.url()).close()


@pytest.mark.slow
def test_a_cluster_made_when_it_trusted_everyone_gets_a_password(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg", fast=True)
    try:
        server.init()
        hba = server.data_dir / "pg_hba.conf"  # as it was: every rule "trust", no password kept
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
        server.password_file.unlink()
        server.start()
        _refused_without_the_password(server)
        psycopg2.connect(server.url()).close()
        assert "trust" not in [line.split()[-1] for line in hba.read_text().splitlines()
                               if line.strip() and not line.startswith("#")]
    finally:
        server.remove()
