"""Fetching an attachment a record points at, without letting the record aim us anywhere.

A record's attachment URL is the remote's text, so it is vetted before anything is sent
(``vet``), in this order:

1. at most ``MAX_URL_LENGTH`` characters, parseable, http(s), no user:password part;
2. its host is base_url's or one listed in ``attachment_hosts``;
3. plain http only where the connector's policy allows it (``check_url_allowed``);
4. every address its host resolves to is public, unless base_url's own host is not
   (a door on the office network may serve its files there; loopback, private and
   link-local addresses such as 169.254.169.254 are refused otherwise; IPv6 too);
5. on base_url's origin, only paths under ``attachment_path_prefixes`` are fetched,
   and only those with the connector's credentials: the door's own API is never
   called through a record. Other allowed hosts get a client with no credentials.

Redirects are never followed. Every failure (refused URL, 4xx/5xx, dead host, too
large, too slow) is an ``AttachmentUnavailable``: the record is set aside with a
reason saying what to do, and the rest of the page goes on. Only a shutdown is not
the record's problem (``ShuttingDown`` passes through).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import NoReturn

import httpx

from bridge.errors import (
    AttachmentUnavailable,
    BridgeError,
    ConfigError,
    RetryableError,
    ShuttingDown,
)
from bridge.http.client import HttpSettings, check_url_allowed, make_client, origin, same_origin
from bridge.http.retry import RetrySettings, send

MAX_URL_LENGTH = 2048
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AttachmentPolicy:
    """Where one connector may fetch attachments from (see the module docstring)."""

    hosts: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    connector: str = "this connector"
    """The connector's name, for the settings named in reasons."""


@dataclass(frozen=True)
class Vetted:
    url: httpx.URL
    with_credentials: bool


def fetch(
    client: httpx.Client,
    url: str,
    *,
    policy: AttachmentPolicy,
    http: HttpSettings,
    retry: RetrySettings,
    context: str,
) -> bytes:
    """The bytes at ``url``, or ``AttachmentUnavailable`` saying why not."""
    try:
        vetted = vet(client.base_url, url, policy, http)
        bounds = replace(http.bounds(http.max_attachment_bytes), limit_key="max_attachment_bytes")
        with ExitStack() as stack:
            using = client
            if not vetted.with_credentials:  # a fresh client: no credential header goes along
                using = stack.enter_context(make_client(origin(vetted.url), headers={}, http=http))
            response = send(
                using, lambda c: c.get(vetted.url), retry, idempotent=True,
                context=context, bounds=bounds,
            )  # fmt: skip
            return response.content
    except (AttachmentUnavailable, ShuttingDown):
        raise
    except RetryableError as exc:
        raise AttachmentUnavailable(
            f"attachment could not be fetched for now ({exc}); a later try may work, "
            "or check that the source serves it",
            transient=True,
        ) from None
    except BridgeError as exc:
        raise AttachmentUnavailable(
            f"attachment could not be fetched ({exc}); the source must serve the file, "
            f"or the record's attachment must be fixed there",
            transient=False,
        ) from None


def vet(base: httpx.URL, url: str, policy: AttachmentPolicy, http: HttpSettings) -> Vetted:
    """Where ``url`` may be fetched and how, or ``AttachmentUnavailable`` (never transient)."""
    if len(url) > MAX_URL_LENGTH:
        _refuse(f"its URL is longer than {MAX_URL_LENGTH} characters")
    try:
        target = base.join(url.strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        _refuse("its URL cannot be read")
    if target.scheme not in ("http", "https") or not target.host:
        _refuse("its URL is not an http(s) URL with a host")
    if not (_HOST_NAME.fullmatch(target.host) or _is_ip(target.host)):
        _refuse("its URL cannot be read (the host is not a name or an address)")
    if target.userinfo:
        _refuse("its URL carries a user name or password")
    if {".", ".."} & set(target.path.split("/")) or "%2f" in target.raw_path.decode().lower():
        _refuse("its path walks out of its folder (a '..' or an encoded '/')")
    ours = same_origin(target, base)
    if not ours and target.host.lower() not in {h.lower() for h in policy.hosts}:
        _refuse(
            f"host {target.host!r} is neither base_url's nor listed in "
            f"connectors.{policy.connector}.attachment_hosts; add it there if it is trusted"
        )
    try:
        check_url_allowed(str(target), http)
    except ConfigError as exc:
        _refuse(exc.problems[0])
    _check_addresses(target, base, policy)
    if not ours:
        return Vetted(target, with_credentials=False)
    if not under_prefixes(target, base, policy.path_prefixes):
        _refuse(
            f"path {target.path!r} on base_url's host is not under "
            f"connectors.{policy.connector}.attachment_path_prefixes, so it is not fetched "
            "with the connector's credentials; add the prefix where the files live"
        )
    return Vetted(target, with_credentials=True)


def under_prefixes(target: httpx.URL, base: httpx.URL, prefixes: tuple[str, ...]) -> bool:
    """True when ``target``'s path lies under one of ``prefixes`` (relative ones under base)."""
    path = target.path  # ``vet`` has refused any path with dot segments or an encoded "/"
    for prefix in prefixes:
        full = prefix if prefix.startswith("/") else base.join(prefix).path
        if path.startswith(full if full.endswith("/") else full + "/"):
            return True
    return False


def _check_addresses(target: httpx.URL, base: httpx.URL, policy: AttachmentPolicy) -> None:
    addresses = resolve(target.host, target.port)
    # A name that does not resolve is left to the connection, which fails on it too
    # (a transient AttachmentUnavailable: the host may be back later).
    internal = [a for a in addresses if not a.is_global]
    if internal and not _is_internal(base):
        _refuse(
            f"host {target.host!r} is an internal address ({internal[0]}), and "
            f"connector {policy.connector!r} does not live on an internal network"
        )


def _is_internal(base: httpx.URL) -> bool:
    addresses = resolve(base.host, base.port)
    return bool(addresses) and not any(a.is_global for a in addresses)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int | None) -> list[IpAddress]:
    """Every address ``host`` stands for (itself when it is an IP literal); [] when none."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _refuse(why: str) -> NoReturn:
    raise AttachmentUnavailable(f"attachment refused: {why}", transient=False)
