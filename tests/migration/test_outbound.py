"""The callback destination rule: the allow list, every refused address class, and the parsing of the setting.

Hostnames that must resolve somewhere specific use a resolver given to the policy (the system's DNS is not ours to
script); ``localhost`` goes through the machine's real resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from migration.outbound import (
    DEFAULT_ALLOWED_HOSTS,
    AllowedDestination,
    CallbackPolicy,
    DestinationRefused,
    forbidden_reason,
)

LOGIC_URL = "https://prod-03.westus.logic.azure.com:443/workflows/abc/triggers/manual/run?api-version=2016-06-01&sig=s3"


def resolving_to(*addresses: str) -> CallbackPolicy:
    """The default policy, with every host resolving to ``addresses``."""

    def resolve(_host: str, _port: int) -> Sequence[str]:
        return list(addresses)

    return CallbackPolicy(CallbackPolicy.from_settings({}).allowed, resolve)


# One address per class the rule refuses, and the words the refusal uses.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),  # the instance metadata service
    ("fe80::1", "link-local"),
    ("168.63.129.16", "wire server"),
    ("10.0.0.4", "private"),
    ("172.16.5.5", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.10", "private"),  # TEST-NET-1 (documentation)
    ("::ffff:169.254.169.254", "inside the IPv6 address"),
    ("::ffff:127.0.0.1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254
]


@pytest.mark.parametrize(("address", "words"), REFUSED)
def test_every_internal_address_class_is_refused(address: str, words: str) -> None:
    reason = forbidden_reason(ipaddress.ip_address(address))
    assert reason is not None and words in reason


@pytest.mark.parametrize("address", ["20.42.0.1", "13.107.246.10", "2603:1030::1", "::ffff:20.42.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("address", "words"), REFUSED)
def test_an_allowed_host_resolving_inside_is_refused(address: str, words: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        resolving_to(address).check(LOGIC_URL)
    assert words in str(refused.value) and "prod-03.westus.logic.azure.com" in str(refused.value)


def test_one_bad_address_among_good_ones_is_enough_to_refuse() -> None:
    with pytest.raises(DestinationRefused, match="169.254.169.254"):
        resolving_to("20.42.0.1", "169.254.169.254").check(LOGIC_URL)


def test_a_logic_apps_callback_is_allowed_by_default_and_pinned_to_its_addresses() -> None:
    destination = resolving_to("20.42.0.1", "20.42.0.1", "20.42.0.2").check(LOGIC_URL)
    assert (destination.scheme, destination.host, destination.port) == ("https", "prod-03.westus.logic.azure.com", 443)
    assert destination.addresses == ("20.42.0.1", "20.42.0.2")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://prod-03.westus.logic.azure.com/workflows/x", "not on the callback allow list"),
        ("https://prod-03.westus.logic.azure.com:8443/workflows/x", "not on the callback allow list"),
        ("https://logic.azure.com.attacker.example/x", "not on the callback allow list"),
        ("https://evil-logic.azure.com/x", "not on the callback allow list"),
        ("https://127.0.0.1/durabletask/instances/x/terminate", "bare IP address"),
        ("https://[::ffff:169.254.169.254]/metadata/identity", "bare IP address"),
        ("https://168.63.129.16/machine", "bare IP address"),
        ("http://localhost:7071/runtime/webhooks/durabletask/instances", "not on the callback allow list"),
        ("https://user:pw@prod-03.westus.logic.azure.com/x", "user name or password"),
        ("ftp://prod-03.westus.logic.azure.com/x", "not an absolute https URL"),
        ("https://prod-03.westus.logic.azure.com:99999/x", "port"),
        ("https://pr\u043ed.logic.azure.com/x", "not a plain DNS name"),
    ],
)
def test_destinations_outside_the_list_are_refused_before_any_lookup(url: str, words: str) -> None:
    def no_lookup(host: str, _port: int) -> Sequence[str]:
        raise AssertionError(f"{host} looked up")

    policy = CallbackPolicy(CallbackPolicy.from_settings({}).allowed, no_lookup)
    with pytest.raises(DestinationRefused, match=words):
        policy.check(url)


def test_refusals_never_echo_the_signature() -> None:
    with pytest.raises(DestinationRefused) as refused:
        resolving_to("10.1.1.1").check(LOGIC_URL)
    assert "s3" not in str(refused.value).replace("s3cr", "")
    assert "sig=" not in str(refused.value)


def test_the_machines_own_resolver_sends_localhost_to_loopback_and_it_is_refused() -> None:
    policy = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": "localhost"})
    with pytest.raises(DestinationRefused, match="loopback"):
        policy.check("https://localhost/x")


def test_a_name_that_does_not_resolve_is_refused() -> None:
    policy = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": "*.host.invalid"})
    with pytest.raises(DestinationRefused, match="does not resolve"):
        policy.check("https://callback.host.invalid/x")


def test_an_explicit_origin_is_the_only_way_to_reach_an_internal_receiver() -> None:
    policy = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": "http://127.0.0.1:8080"})
    assert policy.check("http://127.0.0.1:8080/hook?sig=x").addresses == ("127.0.0.1",)
    for other in ("http://127.0.0.1:8081/hook", "https://127.0.0.1:8080/hook", "http://127.0.0.2:8080/hook"):
        with pytest.raises(DestinationRefused, match="allow list"):
            policy.check(other)


def test_the_default_list_is_logic_apps_in_every_cloud() -> None:
    assert [str(e) for e in CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": " "}).allowed] == list(
        DEFAULT_ALLOWED_HOSTS
    )


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("*.logic.azure.com", AllowedDestination("*.logic.azure.com")),
        ("Hooks.Example.com.", AllowedDestination("hooks.example.com")),
        ("https://hooks.example.com:8443", AllowedDestination("hooks.example.com", "https", 8443, explicit=True)),
        ("http://10.0.0.4", AllowedDestination("10.0.0.4", "http", 80, explicit=True)),
    ],
)
def test_allow_list_entries(entry: str, parsed: AllowedDestination) -> None:
    assert AllowedDestination.parse(entry) == parsed


@pytest.mark.parametrize(
    "entry",
    ["*", "*.com", "10.0.0.4", "hooks.example.com:8443", "ftp://x.example", "https://*.example.com", "https://u@x.y"],
)
def test_malformed_entries_name_themselves(entry: str) -> None:
    with pytest.raises(ValueError, match="CALLBACK_ALLOWED_HOSTS entry"):
        CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": f"*.logic.azure.com,{entry}"})
