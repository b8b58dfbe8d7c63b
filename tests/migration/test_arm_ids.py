"""ARM id parsing: well-formed ids round-trip, malformed ones are refused with a reason."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migration.arm_ids import (
    FABRIC_TYPE,
    JOB_TYPE,
    PROTECTED_ITEM_TYPE,
    RECOVERY_POINT_TYPE,
    VIRTUAL_NETWORK_TYPE,
    InvalidResourceIdError,
    ResourceId,
    VaultRef,
    parse_resource_id,
    same_resource,
)

SUB = "11111111-1111-1111-1111-111111111111"
NETWORK_RG = f"/subscriptions/{SUB}/resourceGroups/rg-network-westeurope"
VNET = f"{NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-prod"

guids = st.uuids().map(str)
group_names = st.from_regex(r"[A-Za-z0-9_\-()]{1,20}", fullmatch=True)
type_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#"), min_size=1, max_size=30
).filter(lambda s: s == s.strip())
namespaces = st.lists(type_names, min_size=2, max_size=3).map(".".join)


@st.composite
def resource_ids(draw):
    depth = draw(st.integers(min_value=0, max_value=4))
    group = draw(st.one_of(st.none(), group_names)) if depth else draw(group_names)
    namespace = draw(namespaces) if depth else None
    types = tuple(draw(type_names) for _ in range(depth))
    resource_names = tuple(draw(names) for _ in range(depth))
    return ResourceId(draw(guids), group, namespace, types, resource_names)


def test_parses_a_network_id_into_its_parts():
    rid = parse_resource_id(VNET)
    assert rid.subscription_id == SUB
    assert rid.resource_group == "rg-network-westeurope"
    assert rid.namespace == "Microsoft.Network"
    assert rid.types == ("virtualNetworks",)
    assert rid.name == "vnet-prod"
    assert rid.is_type(VIRTUAL_NETWORK_TYPE)
    assert rid.is_type("microsoft.network/VIRTUALNETWORKS")
    assert not rid.is_type("Microsoft.Network/networkSecurityGroups")


def test_keywords_are_case_insensitive_as_in_asr_responses():
    # ASR answers with '/Subscriptions/...' (ReplicationProtectedItems_Get.json).
    rid = parse_resource_id(
        f"/Subscriptions/{SUB}/RESOURCEGROUPS/rg/Providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/f"
    )
    assert rid.is_type(FABRIC_TYPE)
    assert str(rid).startswith(f"/subscriptions/{SUB}/resourceGroups/rg/providers/")


def test_parent_chain_walks_up_to_the_subscription():
    vault = VaultRef(SUB, "rg-migration", "vault-migrate")
    rid = parse_resource_id(vault.protected_item_id("vmware-site", "vmware-site-container", "web-01"))
    chain = []
    current: ResourceId | None = rid
    while current is not None:
        chain.append(current.full_type or current.name)
        current = current.parent
    assert chain == [
        PROTECTED_ITEM_TYPE,
        "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers",
        FABRIC_TYPE,
        "Microsoft.RecoveryServices/vaults",
        "rg-migration",
        SUB,
    ]


def test_vault_builders_name_the_asr_resources():
    vault = VaultRef(SUB, "rg-migration", "vault-migrate")
    base = f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/Microsoft.RecoveryServices/vaults/vault-migrate"
    assert vault.id == base
    assert vault.fabric_id("f") == f"{base}/replicationFabrics/f"
    assert vault.container_id("f", "c") == f"{base}/replicationFabrics/f/replicationProtectionContainers/c"
    assert vault.policy_id("migration-policy") == f"{base}/replicationPolicies/migration-policy"
    assert vault.job_id("j1") == f"{base}/replicationJobs/j1"
    assert vault.container_mapping_id("f", "c", "m").endswith("/replicationProtectionContainerMappings/m")
    assert vault.protectable_item_id("f", "c", "p").endswith("/replicationProtectableItems/p")
    assert parse_resource_id(vault.recovery_point_id("f", "c", "i", "rp")).is_type(RECOVERY_POINT_TYPE)
    assert parse_resource_id(vault.job_id("j1")).is_type(JOB_TYPE)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "starts with"),
        ("subscriptions/" + SUB, "starts with"),
        ("/subscriptions/not-a-guid/resourceGroups/rg", "not a GUID"),
        (f"/subscriptions/{SUB}/resourceGroups", "needs a resource group name"),
        (f"/subscriptions/{SUB}/resourceGroups/rg./providers/Microsoft.Network/virtualNetworks/v", "resource group"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/vaults/v", "expected 'providers'"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers", "namespace"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Network/virtualNetworks/v", "namespace"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network", "type and name"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks", "has no name"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/", "does not end"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks//x/y", "empty"),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/1nets/v", "not a resource type"),
    ],
)
def test_malformed_ids_are_refused_with_a_reason(text, reason):
    with pytest.raises(InvalidResourceIdError, match=reason):
        parse_resource_id(text)


@given(resource_ids())
def test_built_ids_round_trip_through_the_parser(rid):
    assert parse_resource_id(str(rid)) == rid


@given(resource_ids(), st.randoms(use_true_random=False))
def test_comparison_ignores_case(rid, rnd):
    text = str(rid)
    scrambled = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
    # Some letters change length under case mapping (e.g. 'ß'); those ids are not the same name any more.
    if len(scrambled) == len(text) and scrambled.lower() == text.lower():
        assert same_resource(text, scrambled)
        assert rid.same_as(scrambled)


@given(resource_ids(), resource_ids())
def test_different_ids_are_not_the_same_resource(left, right):
    assert same_resource(str(left), str(right)) == (str(left).lower() == str(right).lower())


@given(st.text(max_size=200))
def test_arbitrary_text_is_parsed_or_refused_never_crashes(text):
    try:
        rid = parse_resource_id(text)
    except InvalidResourceIdError:
        return
    assert same_resource(str(rid), text)


def test_malformed_ids_are_never_the_same_resource():
    assert not same_resource("nope", "nope")
