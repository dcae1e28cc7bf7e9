"""drift_client.redis_client: one way for every client to get Redis's password (URL or REDIS_PASSWORD_FILE)."""
from __future__ import annotations

import pytest

from drift_client.redis_client import RedisPasswordFileError, connect, password_from_env, redact
from scripts.servers import RedisOptions, ensure_secret


def test_the_password_file_is_read_without_its_newline_and_given_to_the_client(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    assert password_from_env({"REDIS_PASSWORD_FILE": str(secret)}) == "s3cret"
    assert password_from_env({}) is None and password_from_env({"REDIS_PASSWORD_FILE": ""}) is None
    client = connect("redis://127.0.0.1:1/0", environ={"REDIS_PASSWORD_FILE": str(secret)})
    assert client.connection_pool.connection_kwargs["password"] == "s3cret"
    in_url = connect("redis://:fromurl@127.0.0.1:1/0", secret)
    assert in_url.connection_pool.connection_kwargs["password"] == "fromurl", "a password in the URL wins"
    assert "password" not in connect("redis://127.0.0.1:1/0", environ={}).connection_pool.connection_kwargs


@pytest.mark.parametrize("content", [None, "", "\n"])
def test_a_missing_or_empty_password_file_is_a_clear_error_naming_it(tmp_path, content):
    secret = tmp_path / "pw"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(RedisPasswordFileError, match=str(secret)):
        connect("redis://127.0.0.1:1/0", secret)


def test_urls_are_redacted_for_messages():
    assert redact("redis://user:p%40ss@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact("rediss://:pw@h/1") == "rediss://:***@h/1"
    assert redact("redis://host:6379/0") == "redis://host:6379/0"


def test_redis_conf_quotes_the_password_and_keeps_persistence_as_asked(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text('a"b\\c\n')
    conf = RedisOptions(password_file=secret, appendonly=True, maxmemory="1gb").config(6400, tmp_path / "data")
    assert 'requirepass "a\\"b\\\\c"' in conf.splitlines()
    assert {"bind 127.0.0.1", "appendonly yes", "appendfsync everysec", "maxmemory 1gb", "maxmemory-policy noeviction"} <= set(conf.splitlines())
    assert "appendonly no" in RedisOptions().config(6400, tmp_path).splitlines()
    generated = ensure_secret(tmp_path / "secrets" / "redis")
    assert oct(generated.stat().st_mode & 0o777) == "0o600" and len(generated.read_text().strip()) >= 32
