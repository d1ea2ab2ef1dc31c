"""Configuration: defaults -> .env -> environment -> overrides, and the profile rules."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import pytest

from app.config import ConfigError, database_url, load_settings

STRONG = "s" * 40


def test_defaults_give_embedded_sqlite(tmp_path):
    settings = load_settings(environ={}, env_file=tmp_path / "none")
    assert settings["APP_ENV"] == "local"
    assert database_url(settings).startswith("sqlite:///") and database_url(settings).endswith("origin.sqlite3")


def test_env_file_then_environment_then_overrides(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SESSION_IDLE_MINUTES=20\nAPP_TIMEZONE=UTC\nMAIL_SERVER=smtp.file\n")
    settings = load_settings(environ={"MAIL_SERVER": "smtp.env"}, env_file=env_file,
                             overrides={"APP_TIMEZONE": "Australia/Perth"})
    assert settings["SESSION_IDLE_MINUTES"] == 20           # from .env, parsed to int
    assert settings["MAIL_SERVER"] == "smtp.env"            # environment beats .env
    assert settings["APP_TIMEZONE"] == "Australia/Perth"    # overrides beat both


def test_typed_parsing_rejects_garbage(tmp_path):
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES"):
        load_settings(environ={"SESSION_IDLE_MINUTES": "soon"}, env_file=tmp_path / "none")
    with pytest.raises(ConfigError, match="DEBUG"):
        load_settings(environ={"DEBUG": "maybe"}, env_file=tmp_path / "none")
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings(environ={"APP_ENV": "prod"}, env_file=tmp_path / "none")


@pytest.mark.parametrize("secret", ["", "dev-insecure-secret-key-change-me", "change-me", "short-but-not-default"])
def test_production_refuses_missing_default_or_short_secret(tmp_path, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(environ={"APP_ENV": "production", "SECRET_KEY": secret}, env_file=tmp_path / "none")


def test_production_refuses_debug_and_forces_secure_cookies(tmp_path):
    with pytest.raises(ConfigError, match="DEBUG"):
        load_settings(environ={"APP_ENV": "production", "SECRET_KEY": STRONG, "DEBUG": "1", "TRUSTED_HOSTS": "x"}, env_file=tmp_path / "n")
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        load_settings(environ={"APP_ENV": "production", "SECRET_KEY": STRONG}, env_file=tmp_path / "n")
    settings = load_settings(environ={"APP_ENV": "production", "SECRET_KEY": STRONG,
                                      "TRUSTED_HOSTS": "origin.example"}, env_file=tmp_path / "n")
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["PREFERRED_URL_SCHEME"] == "https"


def test_production_app_uses_host_prefixed_secure_cookie(tmp_path):
    from app.bootstrap import create_app

    app = create_app({"APP_ENV": "production", "SECRET_KEY": STRONG, "TRUSTED_HOSTS": "localhost", "LOG_DIR": str(tmp_path),
                      "UPLOAD_DIR": str(tmp_path / "u"), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-origin"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.debug is False
    assert app.test_client().get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_staging_disables_outbound_messages(tmp_path):
    settings = load_settings(environ={"APP_ENV": "staging", "MAIL_ENABLED": "1", "SMS_ENABLED": "1"},
                             env_file=tmp_path / "none")
    assert settings["MAIL_ENABLED"] is False and settings["SMS_ENABLED"] is False


def test_env_example_documents_every_setting():
    from app.config import DEFAULTS, PROJECT_ROOT

    text = (PROJECT_ROOT / ".env.example").read_text()
    missing = [key for key in DEFAULTS if f"{key}=" not in text]
    assert not missing, f".env.example lacks {missing}"


def test_relative_paths_resolve_against_the_project_not_the_cwd(tmp_path, monkeypatch):
    from app.config import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"SQLITE_PATH": "instance/x.sqlite3", "LOG_DIR": "logs"},
                             env_file=tmp_path / "none")
    assert settings["SQLITE_PATH"] == str(PROJECT_ROOT / "instance" / "x.sqlite3")
    assert settings["LOG_DIR"] == str(PROJECT_ROOT / "logs")
    relative = load_settings(environ={"DATABASE_URL": "sqlite:///instance/y.db"}, env_file=tmp_path / "none")
    assert relative["DATABASE_URL"] == "sqlite:///" + str(PROJECT_ROOT / "instance" / "y.db")


def test_outbound_backends_are_checked_and_staging_turns_them_off(tmp_path):
    from app.config import ConfigError, load_settings

    env = tmp_path / "none.env"
    assert load_settings({}, env_file=env)["EMAIL_BACKEND"] == "log"
    staging = load_settings({"APP_ENV": "staging", "EMAIL_BACKEND": "smtp", "MAIL_SERVER": "smtp.example.com",
                             "SMS_BACKEND": "log"}, env_file=env)
    assert (staging["EMAIL_BACKEND"], staging["SMS_BACKEND"]) == ("disabled", "disabled")
    for bad, message in [({"EMAIL_BACKEND": "pigeon"}, "EMAIL_BACKEND must be"),
                         ({"SMS_BACKEND": "sms-http"}, "needs SMS_HTTP_URL"),
                         ({"SMS_BACKEND": "sms-http", "SMS_HTTP_URL": "https://gw.example", "SMS_HTTP_PAYLOAD": "{to"},
                          "not valid JSON"),
                         ({"SMS_BACKEND": "sms-http", "SMS_HTTP_URL": "https://gw.example", "SMS_HTTP_PAYLOAD": "[]"},
                          "must be a JSON object"),
                         ({"EMAIL_BACKEND": "smtp"}, "needs MAIL_SERVER")]:
        with pytest.raises(ConfigError, match=message):
            load_settings(bad, env_file=env)
