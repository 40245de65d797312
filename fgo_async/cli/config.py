"""Where the ``fgo`` command sends calls, and with which credentials.

Settings come from three places, the later overriding the earlier:

1. a TOML config file: ``--config PATH``, else ``$FGO_CONFIG``, else ``./fgo.toml``, else
   ``$XDG_CONFIG_HOME/fgo/config.toml`` (``~/.config/fgo/config.toml``);
2. the environment: ``FGO_COD_UNIC``, ``FGO_PRIVATE_KEY``, ``FGO_PLATFORM_URL``, ``FGO_ENV``
   (``test`` or ``production``), ``FGO_BASE_URL``;
3. the command line: ``--company``, ``--env``, ``--base-url``, ``--platform-url``.

The private key is never read from the command line, where any user of the machine could see it
in the process list, and never printed: :class:`Company` keeps it out of its ``repr``.

The file, for several companies (a ``fgo batch`` file names each line's company)::

    environment = "test"                      # or "production", or base_url = "http://..."
    platform_url = "https://shop.example.ro"
    default_company = "12345678"              # optional: the first company otherwise

    [companies.12345678]
    private_key_env = "FGO_KEY_12345678"      # the key from this environment variable...

    [companies.87654321]
    private_key = "..."                       # ...or in the file (then chmod 600 it)
    platform_url = "https://other.example.ro" # optional, per company

TOML is read with :mod:`tomllib` (Python 3.11+) or, on 3.10, with ``tomli``, which the ``cli``
extra installs there: no dependency for the library itself.
"""

from __future__ import annotations

import importlib
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..client import Environment, FgoClient
from ..errors import FgoConfigurationError
from .exits import CliError

__all__ = ["ENVIRONMENTS", "Company", "ConfigError", "Overrides", "Settings", "load_settings"]

#: The values of ``FGO_ENV`` / ``--env`` / ``environment``.
ENVIRONMENTS: Mapping[str, Environment] = {
    "test": Environment.TEST,
    "production": Environment.PRODUCTION,
}

_TOP_KEYS = {"environment", "base_url", "platform_url", "default_company", "companies"}
_COMPANY_KEYS = {"private_key", "private_key_env", "platform_url"}


class ConfigError(CliError):
    """The settings cannot work: the message says which one and how to fix it (exit 2)."""


@attrs.frozen(kw_only=True)
class Company:
    """One company's credentials. The key never shows in ``repr``."""

    cod_unic: str
    private_key: str = attrs.field(repr=False)
    platform_url: str | None = None


@attrs.frozen(kw_only=True)
class Overrides:
    """What the command line says (never a private key)."""

    company: str | None = None
    environment: str | None = None
    base_url: str | None = None
    platform_url: str | None = None
    config: Path | None = None


@attrs.frozen(kw_only=True)
class Settings:
    """The companies and where their calls go."""

    companies: Mapping[str, Company]
    default_company: str | None = None
    environment: Environment | None = None
    base_url: str | None = None
    platform_url: str | None = None
    #: Where the settings came from, for messages.
    source: str = "the environment"

    def company(self, cod_unic: str | None = None) -> Company:
        """The company called ``cod_unic``, or the default one."""
        wanted = cod_unic or self.default_company
        if wanted is None:
            if len(self.companies) == 1:
                return next(iter(self.companies.values()))
            if not self.companies:
                raise ConfigError(
                    "no company configured: set FGO_COD_UNIC and FGO_PRIVATE_KEY, "
                    "or write a config file (see the README, Configuration)"
                )
            raise ConfigError(
                f"{len(self.companies)} companies are configured in {self.source}; "
                "say which with --company CUI, or set default_company"
            )
        found = self.companies.get(wanted)
        if found is None:
            known = ", ".join(sorted(self.companies)) or "none"
            raise ConfigError(
                f"company {wanted} has no private key configured (known: {known}); set "
                "FGO_PRIVATE_KEY with FGO_COD_UNIC, or add it to the config file"
            )
        return found

    def client_options(self, company: Company) -> dict[str, Any]:
        """The keyword arguments of an :class:`~fgo_async.FgoClient` for ``company`` (the key
        among them: keep them out of long-lived frames, see :func:`build_client`)."""
        platform_url = company.platform_url or self.platform_url
        if not platform_url:
            raise ConfigError(
                "no platform URL: set FGO_PLATFORM_URL (the root URL of your shop or app, "
                "such as https://www.example.ro), --platform-url, or platform_url in the file"
            )
        options: dict[str, Any] = {
            "cod_unic": company.cod_unic,
            "private_key": company.private_key,
            "platform_url": platform_url,
        }
        if self.base_url:
            options["base_url"] = self.base_url
        elif self.environment is not None:
            options["environment"] = self.environment
        else:
            raise ConfigError(
                "say where to send calls: FGO_ENV=test or FGO_ENV=production (or --env), "
                "or FGO_BASE_URL (or --base-url) for the simulator"
            )
        return options


def _environment(value: str, where: str) -> Environment:
    try:
        return ENVIRONMENTS[value.strip().lower()]
    except KeyError:
        raise ConfigError(f"{where} is {value!r}; use 'test' or 'production'") from None


def _find_config(overrides: Overrides, environ: Mapping[str, str]) -> Path | None:
    explicit = overrides.config or (
        Path(environ["FGO_CONFIG"]) if environ.get("FGO_CONFIG") else None
    )
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        return explicit
    local = Path("fgo.toml")
    if local.is_file():
        return local
    home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(home) / "fgo" / "config.toml"
    return user if user.is_file() else None


def _toml() -> Any:
    # tomllib is in the standard library from 3.11; the cli extra installs tomli for 3.10.
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - only without the cli extra on Python 3.10
        raise ConfigError(
            "reading a config file on Python 3.10 needs tomli: pip install 'fgo_async[cli]'"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            data: dict[str, Any] = _toml().load(file)
    except (OSError, ValueError) as error:  # TOMLDecodeError is a ValueError
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    return data


def _text(value: Any, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConfigError(f"{where} must be text")
    return str(value)


def _companies_of(
    data: Mapping[str, Any], path: Path, environ: Mapping[str, str]
) -> dict[str, Company]:
    tables = data.get("companies", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{path}: [companies] must be tables such as [companies.12345678]")
    companies: dict[str, Company] = {}
    for cod_unic, table in tables.items():
        where = f"{path}: [companies.{cod_unic}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} must be a table")
        unknown = set(table) - _COMPANY_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        if "private_key_env" in table:
            variable = _text(table["private_key_env"], f"{where} private_key_env")
            key = environ.get(variable)
            if not key:
                raise ConfigError(f"{where}: the environment variable {variable} is not set")
        elif "private_key" in table:
            key = _text(table["private_key"], f"{where} private_key")
        else:
            raise ConfigError(f"{where} needs private_key_env (or private_key)")
        platform_url = table.get("platform_url")
        companies[str(cod_unic)] = Company(
            cod_unic=str(cod_unic),
            private_key=key,
            platform_url=None if platform_url is None else _text(platform_url, where),
        )
    return companies


def readable_by_others(path: Path) -> bool:
    """True when users other than the owner may read ``path`` (POSIX permissions)."""
    return os.name == "posix" and bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))


def _from_file(path: Path, environ: Mapping[str, str]) -> tuple[Settings, list[str]]:
    data = _read_toml(path)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    warnings = []
    companies = _companies_of(data, path, environ)
    holds_key = any("private_key" in t for t in data.get("companies", {}).values())
    if holds_key and readable_by_others(path):
        warnings.append(f"{path} holds a private key and others can read it: chmod 600 {path}")
    environment = data.get("environment")
    settings = Settings(
        companies=companies,
        default_company=None
        if data.get("default_company") is None
        else _text(data["default_company"], f"{path}: default_company"),
        environment=None
        if environment is None
        else _environment(_text(environment, "environment"), f"{path}: environment"),
        base_url=None if data.get("base_url") is None else _text(data["base_url"], "base_url"),
        platform_url=None
        if data.get("platform_url") is None
        else _text(data["platform_url"], "platform_url"),
        source=str(path),
    )
    return settings, warnings


def load_settings(
    environ: Mapping[str, str], overrides: Overrides = Overrides()
) -> tuple[Settings, list[str]]:
    """The settings, and warnings to show (a key in a file others can read).

    A ConfigError is raised afresh here, without the frames that read the settings: those hold
    a private key (from the environment or a file) as a plain local, and error trackers record
    the locals of every frame of an error.
    """
    failure: ConfigError | None = None
    try:
        return _load_settings(environ, overrides)
    except ConfigError as error:
        failure = ConfigError(error.message, error.status)
    raise failure


def _load_settings(environ: Mapping[str, str], overrides: Overrides) -> tuple[Settings, list[str]]:
    path = _find_config(overrides, environ)
    settings, warnings = (
        _from_file(path, environ) if path is not None else (Settings(companies={}), [])
    )
    companies = dict(settings.companies)
    default = settings.default_company
    cod_unic = environ.get("FGO_COD_UNIC")
    key = environ.get("FGO_PRIVATE_KEY")
    if key and not cod_unic:
        raise ConfigError("FGO_PRIVATE_KEY is set but FGO_COD_UNIC (its company) is not")
    if cod_unic:
        if key:
            known = companies.get(cod_unic)
            companies[cod_unic] = Company(
                cod_unic=cod_unic,
                private_key=key,
                platform_url=known.platform_url if known else None,
            )
        default = cod_unic
    environment = settings.environment
    base_url = settings.base_url
    if environ.get("FGO_ENV"):
        environment, base_url = _environment(environ["FGO_ENV"], "FGO_ENV"), None
    if environ.get("FGO_BASE_URL"):
        base_url = environ["FGO_BASE_URL"]
    if overrides.environment:
        environment, base_url = _environment(overrides.environment, "--env"), None
    if overrides.base_url:
        base_url = overrides.base_url
    settings = attrs.evolve(
        settings,
        companies=companies,
        default_company=overrides.company or default,
        environment=environment,
        base_url=base_url,
        platform_url=overrides.platform_url
        or environ.get("FGO_PLATFORM_URL")
        or settings.platform_url,
    )
    return settings, warnings


def build_client(
    make_client: Callable[..., FgoClient], settings: Settings, cod_unic: str | None, **extra: Any
) -> FgoClient:
    """The client of a company; a configuration error is raised afresh, from a frame that holds
    no key (the options, key included, live only in the frame that failed)."""
    failure: FgoConfigurationError | None = None
    try:
        return make_client(**settings.client_options(settings.company(cod_unic)), **extra)
    except FgoConfigurationError as error:
        failure = FgoConfigurationError(error.message)
    raise failure


class HiddenEnvironment(Mapping[str, str]):
    """The process environment with its values kept out of ``repr``: it holds the key, and an
    error tracker shows the locals of every frame of an error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def __repr__(self) -> str:
        return f"<environment of {len(self._environ)} variables>"
