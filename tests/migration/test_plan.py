"""Plan validation: good plans round-trip, bad plans are refused with every problem and its path."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migration.errors import PlanValidationError
from migration.plan import MAX_MACHINES, Plan, check_plan, format_path, providers_in, validate_plan
from migration.source_kinds import Provider, SourceKind

from .plan_data import (
    MACHINE_FACTORIES,
    SOURCE_VM,
    TARGET_RG,
    VNET_PROD,
    a2a_machine,
    hyperv_machine,
    inmage_machine,
    plan,
)


def problems_of(data):
    with pytest.raises(PlanValidationError) as caught:
        validate_plan(data)
    return {(p.path, p.message) for p in caught.value.problems}


def paths_of(data):
    return {path for path, _ in problems_of(data)}


@pytest.mark.parametrize("kind", list(SourceKind))
def test_a_valid_machine_of_each_kind_is_accepted(kind):
    result = validate_plan(plan([MACHINE_FACTORIES[kind.value]("m-1")]))
    machine = result.machine("M-1")
    assert machine.source_kind is kind
    assert machine.provider is {"azure": Provider.A2A, "hyperv": Provider.HYPER_V_REPLICA_AZURE}.get(
        kind.value, Provider.IN_MAGE_RCM
    )


def test_defaults_are_safe_for_a_first_wave():
    options = validate_plan(plan()).options
    assert options.test_failover.required
    assert options.approval.required
    assert options.approval.on_timeout == "hold"
    assert options.on_machine_failure == "hold"
    assert options.cutover_window is None
    assert options.stall_warning_after < options.initial_replication_timeout


def test_output_is_camel_case_and_round_trips():
    data = plan(
        [inmage_machine("web-01"), hyperv_machine("hv-file-01")],
        [a2a_machine("az-api-01")],
        options={"approval": {"timeout": 3600}, "cutoverWindow": {"notBefore": "2026-12-05T22:00:00+01:00"}},
        callbackUrl="https://example.org/hook?sig=x",
    )
    result = validate_plan(data)
    dumped = result.model_dump(mode="json", by_alias=True)
    assert dumped["callbackUrl"] == "https://example.org/hook?sig=x"
    assert dumped["options"]["approval"]["timeout"] == "PT1H"
    assert dumped["options"]["cutoverWindow"]["notBefore"] == "2026-12-05T21:00:00Z"
    machine = dumped["groups"][0]["machines"][0]
    assert machine["sourceKind"] == "vmware"
    assert machine["target"]["resourceGroupId"] == TARGET_RG
    assert "resource_group_id" not in machine["target"]
    assert validate_plan(dumped) == result


def test_plan_helpers_walk_machines_in_cutover_order():
    result = validate_plan(plan([inmage_machine("b")], [inmage_machine("a"), hyperv_machine("c")]))
    assert [(g, m.name) for g, m in result.machines()] == [(0, "b"), (1, "a"), (1, "c")]
    assert result.machine_count == 3
    with pytest.raises(KeyError):
        result.machine("nope")
    machine = result.machine("a")
    assert machine.protected_item_name == "a"
    assert machine.policy_id.endswith("/vaults/vault-migrate/replicationPolicies/migration-policy")
    assert machine.protected_item_id.endswith(
        "/replicationFabrics/vmware-site/replicationProtectionContainers/vmware-site-container/replicationProtectedItems/a"
    )


def test_missing_fields_are_each_reported():
    machine = inmage_machine()
    del machine["target"]["networkId"]
    del machine["asr"]["fabric"]
    data = plan([machine])
    del data["name"]
    assert problems_of(data) == {
        ("name", "Field required"),
        ("groups[0].machines[0].asr.fabric", "Field required"),
        ("groups[0].machines[0].target.networkId", "Field required"),
    }


def test_the_error_message_names_the_expected_resource_type():
    machine = inmage_machine()
    machine["target"]["networkId"] = TARGET_RG
    machine["target"]["testNetworkId"] = "vnet-test"
    (net, test_net) = sorted(problems_of(plan([inmage_machine("ok"), machine])))
    assert net == (
        "groups[0].machines[1].target.networkId",
        "not an ARM resource id of type Microsoft.Network/virtualNetworks (it names a resource group or subscription)",
    )
    assert test_net[0] == "groups[0].machines[1].target.testNetworkId"
    assert test_net[1].startswith("not an ARM resource id of type Microsoft.Network/virtualNetworks (")


def test_wrong_kinds_and_enums_are_refused():
    machine = inmage_machine()
    machine["sourceKind"] = "xen"
    other = hyperv_machine()
    other["replication"]["diskType"] = "Gold_LRS"
    other["target"]["availabilityZone"] = "4"
    paths = paths_of(plan([machine, other], options={"onMachineFailure": "ignore", "maxParallel": 0}))
    assert paths == {
        "groups[0].machines[0].sourceKind",
        "groups[0].machines[1].replication.diskType",
        "groups[0].machines[1].target.availabilityZone",
        "options.onMachineFailure",
        "options.maxParallel",
    }


def test_provider_requirements_are_checked_per_source_kind():
    vmware = inmage_machine("web-01")
    for key in ("processServerId", "logStorageAccountId", "diskType"):
        del vmware["replication"][key]
    azure = a2a_machine()
    del azure["asr"]["sourceVmId"]
    del azure["replication"]["stagingStorageAccountId"]
    hyperv = hyperv_machine()
    del hyperv["asr"]["protectableItem"]
    physical = inmage_machine("db-01", "physical")
    del physical["asr"]["protectableItem"]
    problems = problems_of(plan([vmware, azure, hyperv, physical]))
    assert problems == {
        ("groups[0].machines[0].replication.processServerId", "required when sourceKind is vmware (InMageRcm)"),
        ("groups[0].machines[0].replication.logStorageAccountId", "required when sourceKind is vmware (InMageRcm)"),
        ("groups[0].machines[0].replication.diskType", "required when sourceKind is vmware (InMageRcm)"),
        ("groups[0].machines[1].asr.sourceVmId", "required when sourceKind is azure (A2A)"),
        ("groups[0].machines[1].replication.stagingStorageAccountId", "required when sourceKind is azure (A2A)"),
        ("groups[0].machines[2].asr.protectableItem", "required when sourceKind is hyperv (HyperVReplicaAzure)"),
        (
            "groups[0].machines[3].asr.protectableItem",
            "this or asr.discoveredMachineId is required when sourceKind is physical (InMageRcm)",
        ),
    }


def test_inmage_rcm_finds_the_machine_by_protectable_item_or_discovered_machine():
    by_discovery = inmage_machine("web-01")
    del by_discovery["asr"]["protectableItem"]
    site = (
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-migration/providers/Microsoft.OffAzure"
    )
    by_discovery["asr"]["discoveredMachineId"] = f"{site}/VMwareSites/vmware-site/machines/web-01"
    assert validate_plan(plan([by_discovery])).machine("web-01").asr.protectable_item is None
    wrong = copy.deepcopy(by_discovery)
    wrong["asr"]["discoveredMachineId"] = SOURCE_VM
    assert problems_of(plan([wrong])) == {
        (
            "groups[0].machines[0].asr.discoveredMachineId",
            "not the ARM id of a discovered machine (Microsoft.OffAzure/{siteType}/{site}/machines/{machine})",
        )
    }


def test_provider_rules_are_reported_together_with_field_errors():
    machine = inmage_machine()
    del machine["replication"]["processServerId"]
    machine["target"]["networkId"] = "not-an-id"
    assert paths_of(plan([machine])) == {
        "groups[0].machines[0].replication.processServerId",
        "groups[0].machines[0].target.networkId",
    }


def test_fields_of_another_provider_are_refused():
    machine = inmage_machine()
    machine["asr"]["sourceVmId"] = SOURCE_VM
    azure = a2a_machine()
    azure["replication"]["processServerId"] = "ps"
    azure["replication"]["disksToInclude"] = ["disk-0"]
    problems = problems_of(plan([machine, azure]))
    assert problems == {
        ("groups[0].machines[0].asr.sourceVmId", "not used for sourceKind vmware (InMageRcm); only for A2A"),
        (
            "groups[0].machines[1].replication.processServerId",
            "not used for sourceKind azure (A2A); only for InMageRcm",
        ),
        (
            "groups[0].machines[1].replication.disksToInclude[0]",
            "not an ARM resource id of type Microsoft.Compute/disks (A2A replicates managed disks)",
        ),
    }


def test_machine_names_are_unique_across_groups():
    problems = problems_of(plan([inmage_machine("web-01")], [hyperv_machine("WEB-01")], [a2a_machine("web-01")]))
    assert problems == {
        (
            "groups[1].machines[0].name",
            "duplicate machine name 'WEB-01' (also at groups[0].machines[0]); names are unique across groups",
        ),
        (
            "groups[2].machines[0].name",
            "duplicate machine name 'web-01' (also at groups[0].machines[0]); names are unique across groups",
        ),
    }


def test_groups_must_not_be_empty_and_plans_must_have_groups():
    data = plan([inmage_machine()], [])
    data["groups"][1]["name"] = ""
    assert paths_of(data) == {"groups[1].machines", "groups[1].name"}
    assert paths_of(plan(groups=[]) | {"groups": []}) == {"groups"}


def test_group_names_are_unique():
    data = plan([inmage_machine("a")], [inmage_machine("b")])
    data["groups"][1]["name"] = "GROUP-0"
    assert paths_of(data) == {"groups[1].name"}


def test_a_window_must_end_after_it_starts():
    window = {"notBefore": "2026-12-05T22:00:00Z", "notAfter": "2026-12-05T23:00:00+02:00"}
    assert problems_of(plan(options={"cutoverWindow": window})) == {
        ("options.cutoverWindow.notAfter", "must be later than notBefore")
    }


def test_window_times_need_an_offset_and_are_kept_in_utc():
    assert paths_of(plan(options={"cutoverWindow": {"notBefore": "2026-12-05T22:00:00"}})) == {
        "options.cutoverWindow.notBefore"
    }
    window = validate_plan(plan(options={"cutoverWindow": {"notAfter": "2026-12-06T01:00:00+01:00"}})).options
    assert window.cutover_window is not None
    assert window.cutover_window.not_after == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


def test_more_than_a_thousand_machines_is_refused():
    machines = [inmage_machine(f"m-{i}") for i in range(MAX_MACHINES + 1)]
    problems = problems_of(plan(machines[:600], machines[600:]))
    assert problems == {
        ("groups", "a plan holds at most 1000 machines (this one has 1001); split it into waves"),
    }
    assert validate_plan(plan(machines[:MAX_MACHINES])).machine_count == MAX_MACHINES


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jobTimeout", "PT5S", "must be between PT1M and P2D (got PT5S)"),
        ("jobTimeout", "P30D", "must be between PT1M and P2D (got P30D)"),
        ("initialReplicationTimeout", "P365D", "must be between PT10M and P60D (got P365D)"),
        ("pollInterval", 1, "must be between PT10S and PT30M (got PT1S)"),
        ("stallWarningAfter", "-PT1H", "must be between PT5M and P7D (got a negative duration)"),
        ("testVmSoak", "P8D", "must be between PT0S and P7D (got P8D)"),
    ],
)
def test_absurd_durations_are_refused(field, value, message):
    assert problems_of(plan(options={field: value})) == {(f"options.{field}", message)}


def test_approval_timeout_accepts_iso_or_seconds():
    assert validate_plan(plan(options={"approval": {"timeout": "P2D"}})).options.approval.timeout == timedelta(days=2)
    assert validate_plan(plan(options={"approval": {"timeout": 90}})).options.approval.timeout == timedelta(seconds=90)
    assert paths_of(plan(options={"approval": {"timeout": "soon", "onTimeout": "explode"}})) == {
        "options.approval.timeout",
        "options.approval.onTimeout",
    }


def test_stall_warning_must_come_before_the_timeout():
    options = {"stallWarningAfter": "P2D", "initialReplicationTimeout": "P1D"}
    assert problems_of(plan(options=options)) == {
        ("options.stallWarningAfter", "must be shorter than initialReplicationTimeout")
    }


def test_test_network_is_required_unless_test_failover_is_skipped():
    machine = inmage_machine("web-01")
    del machine["target"]["testNetworkId"]
    assert paths_of(plan([machine])) == {"groups[0].machines[0].target.testNetworkId"}
    skipping = copy.deepcopy(machine) | {"options": {"skipTestFailover": True}}
    assert validate_plan(plan([skipping])).machine("web-01").options.skip_test_failover
    assert validate_plan(plan([machine], options={"testFailover": {"required": False}}))


def test_dr_after_migration_needs_an_a2a_machine():
    dr = {
        "recoveryFabric": "azure-northeurope",
        "recoveryProtectionContainer": "azure-northeurope-container",
        "containerMapping": "westeurope-to-northeurope",
        "policy": "a2a-policy",
        "recoveryResourceGroupId": TARGET_RG + "-dr",
        "stagingStorageAccountId": inmage_machine()["replication"]["logStorageAccountId"],
    }
    assert paths_of(plan([inmage_machine()], options={"drAfterMigration": dr})) == {"options.drAfterMigration"}
    accepted = validate_plan(plan([a2a_machine()], options={"drAfterMigration": dr}))
    assert accepted.options.dr_after_migration is not None
    bad = dr | {"recoveryNetworkId": TARGET_RG}
    assert paths_of(plan([a2a_machine()], options={"drAfterMigration": bad})) == {
        "options.drAfterMigration.recoveryNetworkId"
    }


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=abc", True),
        ("http://localhost:7071/callback", True),
        ("http://127.0.0.1:8080/cb", True),
        ("http://[::1]/cb", True),
        ("http://example.org/cb", False),
        ("https://user:pw@example.org/cb", False),
        ("ftp://example.org/cb", False),
        ("not a url", False),
    ],
)
def test_callback_url_is_https_or_loopback(url, ok):
    data = plan(callbackUrl=url)
    if ok:
        assert validate_plan(data).callback_url == url
    else:
        assert paths_of(data) == {"callbackUrl"}


@pytest.mark.parametrize("plan_id", ["Wave-1", "-wave", "wave-", "wave_1", "w" * 51, ""])
def test_plan_id_is_a_safe_slug(plan_id):
    assert paths_of(plan(id=plan_id)) == {"id"}


def test_unknown_fields_and_non_objects_are_refused():
    machine = inmage_machine()
    machine["target"]["tagetNetworkId"] = VNET_PROD
    assert problems_of(plan([machine])) == {
        ("groups[0].machines[0].target.tagetNetworkId", "unknown field (check the spelling; fields are camelCase)")
    }
    assert paths_of(["not", "a", "plan"]) == {""}
    assert paths_of(plan(groups="x")) == {"groups"}


def test_policy_is_a_name_or_a_policy_id():
    vault_id = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-migration"
    vault_id += "/providers/Microsoft.RecoveryServices/vaults/vault-migrate"
    by_id = inmage_machine()
    by_id["replication"]["policy"] = vault_id + "/replicationPolicies/p1"
    assert validate_plan(plan([by_id])).machine("web-01").policy_id == vault_id + "/replicationPolicies/p1"
    wrong = inmage_machine()
    wrong["replication"]["policy"] = vault_id
    assert paths_of(plan([wrong])) == {"groups[0].machines[0].replication.policy"}


def test_check_plan_lists_problems_as_json():
    assert check_plan(plan()) == []
    data = plan(id="Bad Id")
    del data["name"]
    assert check_plan(data) == [
        {"path": "id", "message": "must be lowercase letters, digits and inner hyphens, at most 50 characters"},
        {"path": "name", "message": "Field required"},
    ]


def test_providers_in_a_plan():
    wave = validate_plan(plan([inmage_machine("a", "aws")], [a2a_machine()]))
    assert providers_in(wave) == {Provider.IN_MAGE_RCM, Provider.A2A}


def test_format_path():
    assert format_path(("groups", 0, "machines", 3, "target", "networkId")) == "groups[0].machines[3].target.networkId"
    assert format_path(()) == ""


# --- property-based: every injected problem is reported at its own path -------------------------

# (path inside a machine, bad value) pairs; None means "delete the key".
BREAKAGES = [
    (("target", "networkId"), TARGET_RG),
    (("target", "resourceGroupId"), VNET_PROD),
    (("target", "subnet"), None),
    (("target", "vmSize"), "2 cores"),
    (("asr", "vault", "subscriptionId"), "not-a-guid"),
    (("asr", "protectionContainer"), None),
    (("replication", "policy"), None),
    (("replication", "diskType"), "Floppy"),
    (("options", "performShutdown"), "maybe"),
    (("sourceKind",), None),
]


def _set(machine, path, value):
    node = machine
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


kinds = st.sampled_from(sorted(MACHINE_FACTORIES))


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(st.lists(kinds, min_size=1, max_size=4), min_size=1, max_size=4),
    breaks=st.lists(st.tuples(st.integers(0, 100), st.sampled_from(BREAKAGES)), max_size=6),
)
def test_every_injected_problem_is_reported_with_its_path(layout, breaks):
    counter = iter(range(1000))
    groups = [[MACHINE_FACTORIES[kind](f"m-{next(counter)}") for kind in group] for group in layout]
    flat = [(g, m, machine) for g, group in enumerate(groups) for m, machine in enumerate(group)]
    expected = set()
    for pick, (path, value) in breaks:
        g, m, machine = flat[pick % len(flat)]
        _set(machine, path, value)
        expected.add(format_path(("groups", g, "machines", m, *path)))
    data = plan(*groups)
    if not expected:
        result = validate_plan(data)
        assert isinstance(result, Plan)
        assert validate_plan(result.model_dump(mode="json", by_alias=True)) == result
        assert validate_plan(result.model_dump(mode="json", by_alias=True, exclude_none=True)) == result
        return
    with pytest.raises(PlanValidationError) as caught:
        validate_plan(data)
    reported = {p.path for p in caught.value.problems}
    assert expected <= reported
    assert all(p.message for p in caught.value.problems)
    # Nothing is reported outside the machines that were broken (a removed sourceKind hides the kind rules only).
    broken_prefixes = {path.split(".asr")[0].split(".target")[0].split(".replication")[0] for path in expected}
    broken_prefixes = {p.split(".options")[0].split(".sourceKind")[0] for p in broken_prefixes}
    assert all(any(path.startswith(prefix) for prefix in broken_prefixes) for path in reported)


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), min_size=1, max_size=12),
    max_parallel=st.integers(1, 200),
    poll=st.integers(10, 1800),
)
def test_valid_generated_plans_round_trip(names, max_parallel, poll):
    unique = list(dict.fromkeys(n.lower() for n in names))
    machines = [MACHINE_FACTORIES[sorted(MACHINE_FACTORIES)[i % 5]](n) for i, n in enumerate(unique)]
    data = plan(machines, options={"maxParallel": max_parallel, "pollInterval": poll})
    result = validate_plan(data)
    assert result.options.poll_interval == timedelta(seconds=poll)
    assert [m.name for _, m in result.machines()] == unique
    assert validate_plan(result.model_dump(mode="json", by_alias=True)) == result


def test_one_source_machine_appears_once_in_a_plan():
    second = inmage_machine("web-02")
    second["asr"]["protectableItem"] = "WEB-01"  # the first machine's item, spelled otherwise
    twin = a2a_machine("az-api-02")
    twin["asr"]["sourceVmId"] = SOURCE_VM.upper()
    found = problems_of(plan([inmage_machine("web-01"), second], [a2a_machine("az-api-01"), twin]))
    assert found == {
        (
            "groups[0].machines[1].asr.protectableItem",
            "the same protectable item as groups[0].machines[0]; a source machine appears once in a plan",
        ),
        (
            "groups[1].machines[1].asr.sourceVmId",
            "the same source VM as groups[1].machines[0]; a source machine appears once in a plan",
        ),
    }


def test_the_same_item_name_in_another_container_is_another_machine():
    other = inmage_machine("web-02")
    other["asr"]["protectableItem"] = "web-01"
    other["asr"]["protectionContainer"] = "other-site-container"
    assert validate_plan(plan([inmage_machine("web-01"), other]))


def test_two_machines_may_not_become_one_target_vm():
    second = inmage_machine("web-02")
    second["target"]["vmName"] = "Web-01"  # the first machine's default target name
    elsewhere = inmage_machine("web-03")
    elsewhere["target"]["vmName"] = "web-01"
    elsewhere["target"]["resourceGroupId"] = TARGET_RG + "-2"
    assert problems_of(plan([inmage_machine("web-01"), second, elsewhere])) == {
        (
            "groups[0].machines[1].target.vmName",
            "target VM name 'web-01' is already groups[0].machines[0]'s in this resource group",
        )
    }


@pytest.mark.parametrize(
    ("where", "text", "problem"),
    [
        ("name", "Wave \x1b[2J", "holds the control character U+001B at position 5"),
        ("group", "db\u202etset", "holds the bidirectional control U+202E at position 2"),
        ("item", "web-01\u2066", "holds the bidirectional control U+2066 at position 6"),
        ("item", "web\n01", "holds the control character U+000A at position 3"),
        ("name", "Wave\u2028two", "holds the control character U+2028 at position 4"),
    ],
)
def test_names_people_read_refuse_control_and_bidirectional_characters(where, text, problem):
    data = plan()
    path = {"name": "name", "group": "groups[0].name", "item": "groups[0].machines[0].asr.protectableItem"}[where]
    if where == "name":
        data["name"] = text
    elif where == "group":
        data["groups"][0]["name"] = text
    else:
        data["groups"][0]["machines"][0]["asr"]["protectableItem"] = text
    assert problems_of(data) == {(path, problem)}


def test_names_in_other_scripts_are_still_welcome():
    data = plan(name="Welle 1 – Zürich, 東京")
    data["groups"][0]["machines"][0]["asr"]["protectableItem"] = "Serveur de fichiers (été)"
    assert validate_plan(data).name == "Welle 1 – Zürich, 東京"


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"maxParallel": "2"}, "options.maxParallel"),
        ({"maxParallel": 2.0}, "options.maxParallel"),
        ({"maxParallel": True}, "options.maxParallel"),
        ({"approval": {"required": "false"}}, "options.approval.required"),
        ({"approval": {"required": 0}}, "options.approval.required"),
        ({"testFailover": {"required": 1}}, "options.testFailover.required"),
    ],
)
def test_numbers_and_switches_are_their_own_json_types(options, path):
    assert paths_of(plan(options=options)) == {path}
