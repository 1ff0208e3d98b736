"""A small stand-in for Databricks ``dbutils`` so the workspace notebooks run unchanged on a laptop.

It serves widgets (values passed in, else the notebook's defaults), secrets (through the configured
secret store) and ``notebook.exit``; nothing else is emulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NotebookExit(Exception):
    """Raised by ``dbutils.notebook.exit`` to end a notebook run with a value."""

    def __init__(self, value: str):
        super().__init__("notebook exited")
        self.value = value


class _Widgets:
    def __init__(self, params: Mapping[str, str]):
        self._params = dict(params)
        self._defaults: dict[str, str] = {}

    def text(self, name: str, default: str = "", label: str | None = None) -> None:
        self._defaults[name] = default

    def dropdown(self, name: str, default: str, choices, label: str | None = None) -> None:
        if name in self._params and self._params[name] not in choices:
            raise ValueError(f"widget {name}: {self._params[name]!r} is not one of {list(choices)}")
        self._defaults[name] = default

    def get(self, name: str) -> str:
        if name in self._params:
            return self._params[name]
        if name in self._defaults:
            return self._defaults[name]
        raise KeyError(f"No widget named {name}")  # what Databricks raises for an undefined widget

    def removeAll(self) -> None:
        self._defaults.clear()


class _Notebook:
    def exit(self, value: Any) -> None:
        raise NotebookExit(value)


class _Secrets:
    def __init__(self, store):
        self._store = store

    def get(self, scope: str, key: str) -> str:
        return self._store().get(key).reveal()


class LocalDbutils:
    """``dbutils`` for local runs. ``settings_overrides`` lets tests shrink data without new conf files."""

    def __init__(
        self,
        params: Mapping[str, str] | None = None,
        secret_store=None,
        settings_overrides: Mapping[str, Any] | None = None,
    ):
        self.widgets = _Widgets(params or {})
        self.notebook = _Notebook()
        self.secrets = _Secrets(secret_store or (lambda: None))
        self.settings_overrides = dict(settings_overrides or {})
