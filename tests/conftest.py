"""Shared test setup: the fixtures fgo_async ships for its users are used here too."""

pytest_plugins = ["fgo_async.testing"]
