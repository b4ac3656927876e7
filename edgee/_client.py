"""What ``Edgee`` and ``AsyncEdgee`` share besides the core: settings and their views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgee._config import ClientOptions, EdgeeConfig, Timeout, resolve_options
from edgee._logging import setup_from_env

__all__ = ["ClientBase"]


class ClientBase:
    """Resolved settings of a client, views of them, and a repr without the key."""

    _options: ClientOptions

    @staticmethod
    def _resolve(
        config: str | EdgeeConfig | Mapping[str, Any] | None,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | Timeout | None,
        max_retries: int | None,
        default_headers: Mapping[str, str] | None,
        connection_limit: int | None = None,
    ) -> ClientOptions:
        setup_from_env()
        return resolve_options(
            config,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            connection_limit=connection_limit,
        )

    @property
    def api_key(self) -> str:
        """The API key this client sends (never shown in its repr).

        Settable, as in the official SDK: the new key is checked as at
        construction (:class:`~edgee.errors.ConfigurationError` otherwise) and
        used from the next request on. Copies made earlier with
        ``with_options()`` keep the key they were made with.
        """
        return self._options.api_key

    @api_key.setter
    def api_key(self, value: str) -> None:
        self._options = self._options.with_api_key(value)

    @property
    def base_url(self) -> str:
        """The gateway's base URL, without a trailing slash.

        Settable like ``api_key``: checked as at construction, used from the
        next request on.
        """
        return self._options.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._options = self._options.with_base_url(value)

    @property
    def timeout(self) -> Timeout:
        """The default timeout of every request."""
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a failed request."""
        return self._options.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    __str__ = __repr__
