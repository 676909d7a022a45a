"""Which network addresses an untrusted URL may reach.

A reference URL comes from a client, so the server must not become that client's way into places only the
server can see: itself (loopback), its network (private ranges), the cloud metadata service, multicast, or
reserved space. The check runs on *resolved* IP addresses, after unwrapping IPv6 forms that embed an IPv4
address (mapped ``::ffff:a.b.c.d``, 6to4, Teredo, NAT64), so every spelling of a forbidden address is caught.
Host names that are numbers in disguise (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) are
refused outright: no legitimate audio host is written that way, and resolvers disagree on what they mean.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints; some are public addresses, so the range checks alone would miss them.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean …
    "169.254.170.2",    # AWS ECS task metadata
    "fd00:ec2::254",    # AWS IMDS over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "168.63.129.16",    # Azure WireServer (a public address)
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")

_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)


def is_disguised_ip(host: str) -> bool:
    """True for hosts made of numbers that are not a plain dotted quad: ``2130706433``, ``0x7f.1``, ``010.0.0.1``.

    C resolvers accept these as IPv4 addresses (inet_aton); refusing them avoids arguing about what they mean.
    """
    if not _NUMERIC_HOST.match(host):
        return False
    parts = host.rstrip(".").split(".")
    canonical = len(parts) == 4 and all(p.isdigit() and (p == "0" or not p.startswith("0")) and int(p) < 256
                                        for p in parts)
    return not canonical


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo client, NAT64), else None."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated) ::a.b.c.d
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``ip`` must not be contacted (None if it may). ``allow`` networks override every rule."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%")[0])
    allow = tuple(allow)
    if any(ip.version == net.version and ip in net for net in allow):
        return None
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = forbidden_reason(inner, allow)
        return f"{reason} (embedded in IPv6 address {ip})" if reason else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for label, test in (("a loopback address", ip.is_loopback), ("an unspecified address", ip.is_unspecified),
                        ("a link-local address", ip.is_link_local), ("a multicast address", ip.is_multicast),
                        ("a private address", ip.is_private), ("a reserved address", ip.is_reserved)):
        if test:
            return label
    if not ip.is_global:
        return "not a public address"
    return None
