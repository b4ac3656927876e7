"""edgee._tls: the verify= option, the one CA environment rule, certificate errors."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from edgee._tls import (
    CertificateVerifyError,
    TLSSettings,
    certificate_error,
    find_certificate_error,
    resolve_tls,
)
from edgee._urllib3_internals import EdgeeAdapter as SSLContextAdapter
from edgee.errors import APIConnectionError, ConfigurationError


def test_explicit_verify_wins_over_environment(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    env = {"SSL_CERT_FILE": "/nonexistent", "REQUESTS_CA_BUNDLE": "/nonexistent"}
    assert resolve_tls(True, own_session=False, environ=env) == TLSSettings(source="verify=")
    off = resolve_tls(False, own_session=False, environ=env)
    assert not off.verify
    assert off.context().verify_mode == ssl.CERT_NONE and not off.context().check_hostname
    assert resolve_tls(str(ca), own_session=True, environ=env).ca_file == str(ca)
    assert resolve_tls(ca, own_session=False, environ=env).ca_file == str(ca)  # PathLike
    assert resolve_tls(str(tmp_path), own_session=False, environ=env).ca_dir == str(tmp_path)
    ctx = ssl.create_default_context()
    settings = resolve_tls(ctx, own_session=False, environ=env)
    assert settings.context() is ctx


@pytest.mark.parametrize("name", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_each_ca_file_variable(tmp_path: Path, name: str) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    settings = resolve_tls(None, own_session=False, environ={name: str(ca)})
    assert settings.ca_file == str(ca) and settings.source == name


def test_variable_order_and_empty_values(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pem", tmp_path / "b.pem"
    first.write_text("")
    second.write_text("")
    env = {"SSL_CERT_FILE": "", "REQUESTS_CA_BUNDLE": str(first), "CURL_CA_BUNDLE": str(second)}
    assert resolve_tls(None, own_session=False, environ=env).ca_file == str(first)
    env = {"SSL_CERT_FILE": str(second), "REQUESTS_CA_BUNDLE": str(first)}
    assert resolve_tls(None, own_session=False, environ=env).ca_file == str(second)


def test_cert_dir_variable(tmp_path: Path) -> None:
    settings = resolve_tls(None, own_session=False, environ={"SSL_CERT_DIR": str(tmp_path)})
    assert settings.ca_dir == str(tmp_path) and settings.ca_file is None
    settings = resolve_tls(None, own_session=False, environ={"REQUESTS_CA_BUNDLE": str(tmp_path)})
    assert settings.ca_dir == str(tmp_path)


def test_own_session_ignores_environment() -> None:
    settings = resolve_tls(None, own_session=True, environ={"SSL_CERT_FILE": "/nonexistent"})
    assert settings.from_session and settings.ca_file is None


def test_nothing_set_is_the_system_store() -> None:
    settings = resolve_tls(None, own_session=False, environ={})
    assert settings.source == "system" and settings.verify
    assert settings.context().verify_mode == ssl.CERT_REQUIRED


def test_bad_values_refused_before_io() -> None:
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE names no such CA"):
        resolve_tls(None, own_session=False, environ={"SSL_CERT_FILE": "/nonexistent/ca.pem"})
    with pytest.raises(ConfigurationError, match="verify= names no such"):
        resolve_tls("/nonexistent/ca.pem", own_session=False, environ={})
    with pytest.raises(ConfigurationError, match="empty path"):
        resolve_tls("", own_session=False, environ={})
    with pytest.raises(TypeError, match="verify must be"):
        resolve_tls(1, own_session=False, environ={})  # type: ignore[arg-type]


def test_certificate_error_is_found_and_says_what_to_do() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "unable to get local issuer certificate"
    wrapped = OSError("outer")
    wrapped.__cause__ = ConnectionError(cause)
    assert find_certificate_error(wrapped) is cause
    assert find_certificate_error(OSError("other")) is None
    error = certificate_error(cause, TLSSettings(source="system"), host="example.com")
    assert isinstance(error, CertificateVerifyError) and isinstance(error, APIConnectionError)
    text = str(error)
    assert "example.com" in text and "unable to get local issuer certificate" in text
    assert "verify=" in text and "SSL_CERT_FILE" in text


def test_adapter_puts_the_context_in_the_pool_key() -> None:
    import requests

    ctx = ssl.create_default_context()
    built: list[int] = []

    def factory() -> ssl.SSLContext:
        built.append(1)
        return ctx

    adapter = SSLContextAdapter(factory, pool_maxsize=3)
    plain = requests.Request("GET", "http://example.com/").prepare()
    _, pool_kwargs = adapter.build_connection_pool_key_attributes(plain, True)
    # Plain HTTP: ours is not built (requests may add its own; urllib3 drops it for http).
    assert pool_kwargs.get("ssl_context") is not ctx and not built
    request = requests.Request("GET", "https://example.com/").prepare()
    _, pool_kwargs = adapter.build_connection_pool_key_attributes(request, "/some/bundle")
    assert pool_kwargs["ssl_context"] is ctx and "ca_certs" not in pool_kwargs
    assert built == [1]
    assert "ssl_context" not in adapter.poolmanager.connection_pool_kw
    assert adapter._pool_maxsize == 3


def test_contexts_are_built_once_per_setting_and_process(tmp_path: Path) -> None:
    system = resolve_tls(None, own_session=False, environ={})
    assert system.context() is resolve_tls(True, own_session=False, environ={}).context()
    off = resolve_tls(False, own_session=False, environ={})
    assert off.context() is off.context() and off.context() is not system.context()
    assert system.context().verify_mode == ssl.CERT_REQUIRED  # not changed by the other


def test_a_changed_ca_file_gets_a_new_context(tmp_path: Path) -> None:
    import trustme

    first, second = trustme.CA(), trustme.CA()
    bundle = tmp_path / "ca.pem"
    first.cert_pem.write_to_path(str(bundle))
    settings = resolve_tls(str(bundle), own_session=False, environ={})
    before = settings.context()
    assert settings.context() is before
    second.cert_pem.write_to_path(str(bundle), append=True)  # size changes
    after = settings.context()
    assert after is not before
    assert len(after.get_ca_certs()) == 2 and len(before.get_ca_certs()) == 1
