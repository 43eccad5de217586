"""Outbound safety: program links talk to public HTTPS addresses only.

A company admin sets a program link's addresses (Visma.Net's API and token URL, Kivra's
address override). Without a check, such an address could point at the server itself, an
internal service or a cloud metadata endpoint (``169.254.169.254``), and the link's client
secret would be sent there. So:

* a link's URLs must be ``https`` and a literal IP address in them must be public
  (:func:`url_problems`, used by the links' ``clean()`` for a clear message in the form);
* **when connecting**, every address the host name resolves to must be public, and the
  connection is made to the address that was checked (:class:`PublicOnlyBackend`), so a
  DNS answer that changes between the check and the connection cannot slip through;
* a link marked as a sandbox/test link (the demo links ``make run`` creates) or the
  setting ``OUTBOUND_ALLOW_PRIVATE_ADDRESSES`` lifts both rules, for local sandboxes.

"Public" is :attr:`ipaddress.IPv4Address.is_global`: loopback, private (RFC 1918, ULA),
link-local (with the metadata address), carrier-grade NAT, reserved, multicast and
unspecified addresses are not.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _


class OutboundRefused(httpcore.ConnectError):
    """The address is not a public one: not connected. (A ConnectError, so httpx reports
    it as one and nothing was sent.)"""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def url_problems(url: str, *, allow_private: bool) -> list[str]:
    """Why ``url`` may not be a program link's address (empty: it may)."""
    if not url or allow_private:
        return []
    parts = urlsplit(url)
    problems = []
    if parts.scheme != "https":
        problems.append(_("The address must start with https://."))
    host = parts.hostname or ""
    literal = _literal_ip(host)
    internal_name = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if internal_name or (literal is not None and not address_is_public(literal)):
        problems.append(_("The address must be a public one, not %(host)s.") % {"host": host})
    return problems


def private_addresses_allowed(*, link) -> bool:
    return bool(getattr(link, "is_sandbox", False)) or bool(
        settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES
    )


class PublicOnlyBackend(httpcore.NetworkBackend):
    """httpcore's network backend that resolves the host itself, refuses unless every
    address is public, and connects to the checked address (TLS still verifies the host
    name: httpcore passes it to ``start_tls`` separately)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        refused = [a for a in addresses if not address_is_public(a)]
        if refused or not addresses:
            raise OutboundRefused(
                f"refused: {host} resolves to {', '.join(refused) or 'nothing'}, not a public "
                "address"
            )
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise OutboundRefused("refused: unix sockets are not outside systems")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """The verifying TLS context every client of this process uses: httpx's own for
    ``verify=True`` (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once.
    Building one loads the whole CA bundle (tens of milliseconds of CPU); the Kivra dispatch
    built one per sender thread and chunk. A context is safe to share between threads once
    built, and nothing changes it afterwards."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class OutboundPolicy:
    """What a client may connect to: ``allow_private`` for sandbox/test links."""

    allow_private: bool = False

    def check(self, url: str) -> None:
        problems = url_problems(url, allow_private=self.allow_private)
        if problems:
            raise OutboundRefused(" ".join(problems))

    def transport(self, **kwargs) -> httpx.HTTPTransport:
        kwargs.setdefault("verify", shared_ssl_context())
        transport = httpx.HTTPTransport(**kwargs)
        if not self.allow_private:
            # httpx builds its httpcore pool without a way to pass a network backend; the
            # pool reads it from this attribute on every new connection (httpcore 1.x).
            transport._pool._network_backend = PublicOnlyBackend()
        return transport
