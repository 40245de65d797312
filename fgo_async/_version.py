"""The installed version of fgo_async, read from the package metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fgo_async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree never installed
    __version__ = "0+unknown"
