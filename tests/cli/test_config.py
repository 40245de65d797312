"""Settings of ``fgo``: a TOML file, the environment, the command line; never a key in argv."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fgo_async import Environment
from fgo_async.cli.app import build_parser
from fgo_async.cli.config import ConfigError, Overrides, load_settings

CONFIG = """
environment = "test"
platform_url = "https://shop.example.ro"

[companies.12345678]
private_key_env = "KEY_ONE"

[companies.87654321]
private_key = "key-two-in-the-file"
platform_url = "https://other.example.ro"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "KEY_ONE": "key-one"}


def write(path: Path, text: str = CONFIG, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_environment_alone(home: dict[str, str]) -> None:
    environ = {
        **home,
        "FGO_COD_UNIC": "12345678",
        "FGO_PRIVATE_KEY": "env-key",
        "FGO_PLATFORM_URL": "https://shop.example.ro",
        "FGO_ENV": "Production",
    }
    settings, warnings = load_settings(environ)
    assert warnings == []
    company = settings.company()
    assert company.cod_unic == "12345678"
    assert "env-key" not in repr(settings)
    options = settings.client_options(company)
    assert options["environment"] is Environment.PRODUCTION
    assert options["private_key"] == "env-key"
    settings, _ = load_settings({**environ, "FGO_BASE_URL": "http://127.0.0.1:8089/v1"})
    assert settings.client_options(company)["base_url"] == "http://127.0.0.1:8089/v1"


def test_a_file_with_several_companies(home: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "fgo.toml")
    settings, warnings = load_settings(home)
    assert warnings == []
    assert sorted(settings.companies) == ["12345678", "87654321"]
    assert settings.source == "fgo.toml"
    with pytest.raises(ConfigError, match="2 companies are configured"):
        settings.company()
    one = settings.client_options(settings.company("12345678"))
    assert (one["private_key"], one["platform_url"]) == ("key-one", "https://shop.example.ro")
    assert one["environment"] is Environment.TEST
    two = settings.client_options(settings.company("87654321"))
    assert two["platform_url"] == "https://other.example.ro"
    # The command line wins over the environment, which wins over the file.
    settings, _ = load_settings(
        {**home, "FGO_ENV": "production", "FGO_COD_UNIC": "87654321"},
        Overrides(base_url="http://127.0.0.1:1/v1", platform_url="https://cli.example.ro"),
    )
    assert settings.company().cod_unic == "87654321"
    options = settings.client_options(settings.company())
    assert options["base_url"] == "http://127.0.0.1:1/v1"
    assert options["platform_url"] == "https://other.example.ro"  # the company's own wins
    settings, _ = load_settings(
        {**home, "FGO_BASE_URL": "http://127.0.0.1:1/v1"}, Overrides(environment="production")
    )
    assert settings.environment is Environment.PRODUCTION
    assert settings.base_url is None


def test_where_the_file_is_found(home: dict[str, str], tmp_path: Path) -> None:
    user = write(tmp_path / "xdg" / "fgo" / "config.toml", 'default_company = "1"\n')
    assert load_settings(home)[0].source == str(user)
    other = write(tmp_path / "elsewhere.toml", 'default_company = "2"\n')
    assert load_settings({**home, "FGO_CONFIG": str(other)})[0].default_company == "2"
    third = write(tmp_path / "third.toml", 'default_company = "3"\n')
    settings, _ = load_settings({**home, "FGO_CONFIG": str(other)}, Overrides(config=third))
    assert settings.default_company == "3"
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({**home, "FGO_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_key_in_a_file_others_can_read_is_warned_about(
    home: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path / "fgo.toml", mode=0o644)
    _, warnings = load_settings(home)
    assert warnings == ["fgo.toml holds a private key and others can read it: chmod 600 fgo.toml"]
    assert "key-two-in-the-file" not in warnings[0]


@pytest.mark.parametrize(
    ("text", "environ", "complaint"),
    [
        ("colour = 1\n", {}, "unknown key 'colour'"),
        ("[companies.1]\nkey = 'x'\n", {}, "unknown key 'key'"),
        ("[companies.1]\nplatform_url = 'x'\n", {}, "needs private_key_env"),
        ("[companies.1]\nprivate_key_env = 'NOPE'\n", {}, "NOPE is not set"),
        ("[companies.1]\nprivate_key = true\n", {}, "private_key must be text"),
        ("companies = 3\n", {}, "must be tables"),
        ("companies = { 1 = 3 }\n", {}, "must be a table"),
        ("environment = 'staging'\n", {}, "use 'test' or 'production'"),
        ("this is not toml", {}, "cannot read config file"),
        ("", {"FGO_PRIVATE_KEY": "k"}, "FGO_COD_UNIC (its company) is not"),
        ("", {"FGO_ENV": "uat"}, "FGO_ENV is 'uat'"),
    ],
)
def test_settings_that_cannot_work_are_named(
    home: dict[str, str], tmp_path: Path, text: str, environ: dict[str, str], complaint: str
) -> None:
    write(tmp_path / "fgo.toml", text)
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_settings({**home, **environ})


def test_what_is_missing_is_said(home: dict[str, str]) -> None:
    settings, _ = load_settings(home)
    with pytest.raises(ConfigError, match="no company configured"):
        settings.company()
    settings, _ = load_settings({**home, "FGO_COD_UNIC": "1", "FGO_PRIVATE_KEY": "k"})
    with pytest.raises(ConfigError, match="no platform URL"):
        settings.client_options(settings.company())
    with pytest.raises(ConfigError, match="company 2 has no private key"):
        settings.company("2")
    settings, _ = load_settings({**home, "FGO_COD_UNIC": "1", "FGO_PRIVATE_KEY": "k",
                                 "FGO_PLATFORM_URL": "https://x.ro"})  # fmt: skip
    with pytest.raises(ConfigError, match="FGO_ENV=test or FGO_ENV=production"):
        settings.client_options(settings.company())


def test_no_option_takes_a_private_key() -> None:
    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        texts += [sub.format_help() for sub in action.choices.values()]
    options = {word for text in texts for word in text.split() if word.startswith("--")}
    assert not [o for o in options if "key" in o or "secret" in o or "hash" in o.lower()]
