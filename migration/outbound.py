"""Where a callback may go: the one rule for a request the app sends to an address somebody else chose.

A plan's ``callbackUrl`` (or the Service Bus ``callbackUrl`` property) is written by whoever may submit, and the
POST leaves from inside the app's network. Left unchecked it reaches what only the app should reach: on loopback,
the Durable management API (a ``…/terminate`` URL ends another migration); at ``169.254.169.254`` the instance
metadata service and its identity tokens; at ``168.63.129.16`` the Azure wire server; any private address of the
virtual network. So a destination passes three checks, each here:

1. **On the allow list** (``CALLBACK_ALLOWED_HOSTS``, comma-separated). An entry is a host (``hooks.example.com``)
   or a suffix pattern (``*.logic.azure.com``), reached over https on port 443 only; or an explicit origin
   (``https://hooks.example.com:8443``, ``http://127.0.0.1:8080``), reached exactly as written: the only way to
   allow plain http, another port, a bare IP address or an internal address, and meant for a receiver the
   operator runs. Unset (or blank), the list is Logic Apps' callback hosts in the public, US Government and China
   clouds (``DEFAULT_ALLOWED_HOSTS``); a Standard logic app's own host is added by the operator.
2. **Every resolved address is public** unless an explicit origin allowed it: no loopback, link-local (the
   metadata service), private, shared (carrier-grade NAT), unspecified, multicast, reserved or wire-server
   address, also when wrapped as IPv4-mapped, NAT64 or 6to4 IPv6. A host that resolves to one bad address among
   good ones is refused (the connection could pick any).
3. **The POST connects to an address that was checked** (``Destination.addresses``), so a second DNS answer
   cannot swap it (DNS rebinding); redirects are never followed (:func:`post_json`).

The same rule holds for every URL a plan names for the app to call: the ``callbackUrl`` and the groups' ``http``
hooks (``migration.hook_options``), and :func:`post_json` is the one POST to such a URL
(``activities/post_callback.py``, ``activities/call_hook.py``). The check runs at submission (the plan is refused,
the URL's path named, nothing started) and again at every call: the host may resolve elsewhere by then, and the
setting may have changed. Messages name the host, never the URL: its query carries the receiver's signature.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from migration.errors import redact

__all__ = [
    "DEFAULT_ALLOWED_HOSTS",
    "JSON_CONTENT_TYPE",
    "SETTING",
    "AllowedDestination",
    "Answer",
    "CallbackPolicy",
    "Destination",
    "DestinationRefused",
    "forbidden_reason",
    "post_json",
    "worth_retrying",
]

SETTING = "CALLBACK_ALLOWED_HOSTS"

# Logic Apps (Consumption) callback URLs are https://prod-NN.<region>.logic.azure.com:443/workflows/… in the public
# cloud ("Workflows - List Callback Url" and Get-AzLogicAppTriggerCallbackUrl examples on learn.microsoft.com);
# logic.azure.us and logic.azure.cn are the same service in Azure Government and Azure China.
DEFAULT_ALLOWED_HOSTS = ("*.logic.azure.com", "*.logic.azure.us", "*.logic.azure.cn")

# The Azure platform's virtual public address (DHCP, DNS, health probes, the VM agent's wire server): a global
# address by the IANA tables, so it is named here ("What is IP address 168.63.129.16?", learn.microsoft.com).
_WIRE_SERVER = ipaddress.ip_address("168.63.129.16")
# Well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d reaches IPv4 a.b.c.d through a translator.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORT = {"https": 443, "http": 80}

Resolver = Callable[[str, int], Sequence[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(ValueError):
    """The callback destination is not one the app may call; ``str()`` says why without the URL's secrets."""


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


def forbidden_reason(address: Address) -> str | None:
    """Why ``address`` may not be called (``None`` when it is a public address), the IPv4 inside IPv6 included."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        reason = forbidden_reason(inner)
        return f"{reason} (inside the IPv6 address {address})" if reason else None
    if address == _WIRE_SERVER:
        return "the Azure wire server address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (the instance metadata service lives there)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _normal_host(host: str) -> str:
    """The host in one spelling (lower case, no trailing dot); anything but an IP or plain ASCII labels is refused."""
    host = host.lower().rstrip(".")
    if _ip_literal(host) is not None:
        return host
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise DestinationRefused("the callback host is not a plain DNS name or IP address")
    return host


@dataclass(frozen=True)
class AllowedDestination:
    """One allow-list entry: a host, a ``*.`` suffix pattern, or an explicit origin (see the module docstring)."""

    host: str
    scheme: str = "https"
    port: int = 443
    explicit: bool = False

    @classmethod
    def parse(cls, entry: str) -> AllowedDestination:
        """Read one entry of ``CALLBACK_ALLOWED_HOSTS``; ``ValueError`` names it when it is malformed."""
        text = entry.strip()
        if "://" in text:
            parts = urlsplit(text)
            if parts.scheme not in _DEFAULT_PORT or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{SETTING} entry {text!r} is not an origin such as https://host:port")
            if parts.username or parts.password or parts.query or parts.fragment:
                raise ValueError(f"{SETTING} entry {text!r} is an origin: scheme, host and port only")
            if "*" in parts.hostname:
                raise ValueError(f"{SETTING} entry {text!r}: an explicit origin names one host, without *")
            port = parts.port or _DEFAULT_PORT[parts.scheme]
            return cls(_normal_host(parts.hostname), parts.scheme, port, explicit=True)
        pattern = text.lower().rstrip(".")
        bare = pattern[2:] if pattern.startswith("*.") else pattern
        if "*" in bare or _ip_literal(bare) is not None or ":" in bare:
            raise ValueError(
                f"{SETTING} entry {text!r}: a host or *.suffix pattern (an IP address or a port needs an explicit"
                " origin such as https://10.0.0.4:8443)"
            )
        try:
            _normal_host(bare)
        except DestinationRefused:
            raise ValueError(f"{SETTING} entry {text!r} is not a DNS name") from None
        if pattern.startswith("*.") and bare.count(".") < 1:
            raise ValueError(f"{SETTING} entry {text!r}: a pattern must keep at least two labels (*.example.com)")
        return cls(pattern)

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if (scheme, port) != (self.scheme, self.port):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}" if self.explicit else self.host


@dataclass(frozen=True)
class Destination:
    """A checked destination: connect to one of ``addresses`` (all of them passed), name ``host`` for TLS."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _system_resolver(host: str, port: int) -> Sequence[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class CallbackPolicy:
    """The allow list in force and the resolver it trusts; ``check`` is the whole rule for one URL."""

    allowed: tuple[AllowedDestination, ...]
    resolve: Resolver = field(default=_system_resolver, compare=False, repr=False)

    @classmethod
    def from_settings(cls, environ: Mapping[str, str]) -> CallbackPolicy:
        """The policy from ``CALLBACK_ALLOWED_HOSTS``; ``ValueError`` for a malformed entry (a server fault)."""
        raw = (environ.get(SETTING) or "").strip()
        entries = [entry for entry in raw.split(",") if entry.strip()] if raw else list(DEFAULT_ALLOWED_HOSTS)
        return cls(tuple(AllowedDestination.parse(entry) for entry in entries))

    def check(self, url: str) -> Destination:
        """The destination ``url`` names, once allowed and resolved; ``DestinationRefused`` says why not."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORT or not parts.hostname:
            raise DestinationRefused("the callback URL is not an absolute https URL")
        if parts.username or parts.password:
            raise DestinationRefused("the callback URL carries a user name or password")
        try:
            port = parts.port or _DEFAULT_PORT[scheme]
        except ValueError:
            raise DestinationRefused("the callback URL's port is not a number from 1 to 65535") from None
        host = _normal_host(parts.hostname)
        entry = next((entry for entry in self.allowed if entry.matches(scheme, host, port)), None)
        if entry is None:
            hint = " (a bare IP address is allowed only as an explicit origin)" if _ip_literal(host) else ""
            raise DestinationRefused(
                f"{scheme}://{host}:{port} is not on the callback allow list ({SETTING}: "
                f"{', '.join(str(e) for e in self.allowed)}){hint}"
            )
        literal = _ip_literal(host)
        try:
            addresses = [str(literal)] if literal is not None else list(self.resolve(host, port))
        except (OSError, UnicodeError) as error:
            raise DestinationRefused(f"the callback host {host} does not resolve ({type(error).__name__})") from None
        if not addresses:
            raise DestinationRefused(f"the callback host {host} resolves to no address")
        if not entry.explicit:
            for text in addresses:
                reason = forbidden_reason(ipaddress.ip_address(text.split("%", 1)[0]))
                if reason is not None:
                    raise DestinationRefused(f"the callback host {host} resolves to {text}, {reason}")
        return Destination(scheme, host, port, tuple(dict.fromkeys(addresses)))


# -- the POST ----------------------------------------------------------------------------------------------------

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# The most of an answer's body that is read: what the callers keep is an excerpt, and a receiver that streams
# without end must not hold the activity.
_BODY_READ = 64 * 1024
_RETRY_STATUSES = frozenset({408, 429})


def worth_retrying(status: int | None) -> bool:
    """Whether calling again may go better: no answer, 408, 429 or a 5xx. Another 4xx says the request is wrong, and a
    redirect is never followed (a POST must not be replayed elsewhere)."""
    return status is None or status in _RETRY_STATUSES or status >= 500


@dataclass(frozen=True)
class Answer:
    """What one POST got: the status and headers (``status`` None: no answer, ``problem`` says why, redacted) and
    the start of the body."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    problem: str = ""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host resolves to now (check 3)."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.addresses[0]

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The https form: TCP to the checked address, TLS (certificate and SNI) for the host the URL names."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(destination.host, destination.port, timeout=timeout, context=self._tls)
        self._address = destination.addresses[0]

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _target(url: str) -> str:
    """The request target: the URL's path and query, as the receiver signed them."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def post_json(
    url: str, body: Any, *, policy: CallbackPolicy, timeout: float, content_type: str = JSON_CONTENT_TYPE
) -> Answer:
    """POST ``body`` as JSON to ``url`` once, if ``policy`` allows it (``DestinationRefused`` when it does not):
    connected to the address that was checked, no redirect followed, at most ``timeout`` seconds per socket wait."""
    destination = policy.check(url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    connection_type = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(destination, timeout)
    try:
        try:
            connection.request("POST", _target(url), body=data, headers={"Content-Type": content_type})
            response = connection.getresponse()
        except (http.client.HTTPException, OSError, ValueError) as error:
            return Answer(None, problem=redact(f"{type(error).__name__}: {error}"))
        try:
            answer_body = response.read(_BODY_READ)
        except (http.client.HTTPException, OSError, ValueError):
            answer_body = b""  # the status came: the request was answered, whatever happened to the body
        return Answer(response.status, dict(response.getheaders()), answer_body)
    finally:
        connection.close()
