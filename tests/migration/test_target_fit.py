"""The target-fit rules without a host (``migration.target_fit``): sizes offered and not restricted, vCPU quotas per
family and in total, VM names, sizes Site Recovery picks, and what the wave makes of the verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from migration.payloads.fields import PayloadError
from migration.payloads.target_fit import Finding, TargetFit, TargetFitRequest
from migration.target_fit import (
    DOES_NOT_FIT,
    NOT_STARTED,
    MachineTarget,
    RegionOffer,
    judge,
    location_name,
    refusals,
    region_offer,
)
from migration.wave_state import Hold, WaveState
from tests.support.machines import example_plan

SUB = "00000000-1111-2222-3333-444444444444"
WEU = "westeurope"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compute"


def sku(
    name: str, family: str, vcpus: int, *, zones: tuple[str, ...] = ("1", "2", "3"), **extra: Any
) -> dict[str, Any]:
    """A ``ResourceSkus_List`` entry in the REST shape (``ListAvailableResourceSkusForARegion.json``'s fields)."""
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "size": name.split("_", 1)[1],
        "family": family,
        "locations": [WEU],
        "locationInfo": [{"location": WEU, "zones": list(zones), "zoneDetails": []}],
        "capabilities": [{"name": "vCPUs", "value": str(vcpus)}, {"name": "MemoryGB", "value": str(vcpus * 4)}],
        "restrictions": [],
        **extra,
    }


def usage(name: str, current: int, limit: int) -> dict[str, Any]:
    """A ``Usage_List`` entry in the REST shape (``Usage_List_MaximumSet_Gen.json``'s fields)."""
    return {"unit": "Count", "currentValue": current, "limit": limit, "name": {"value": name, "localizedValue": name}}


def restriction(kind: str, reason: str = "NotAvailableForSubscription", zones: tuple[str, ...] = ()) -> dict[str, Any]:
    """A restriction as Compute lists it (Skus spec ``ResourceSkuRestrictions``)."""
    info: dict[str, Any] = {"locations": [WEU]}
    if zones:
        info["zones"] = list(zones)
    return {"type": kind, "values": [WEU], "restrictionInfo": info, "reasonCode": reason}


SKUS = [
    sku("Standard_D2s_v5", "standardDSv5Family", 2),
    sku("Standard_D8s_v5", "standardDSv5Family", 8),
    sku("Standard_E4s_v5", "standardESv5Family", 4, zones=("1", "3")),
]
USAGES = [usage("cores", 40, 100), usage("standardDSv5Family", 40, 50), usage("standardESv5Family", 0, 20)]


def offer(
    skus: list[dict[str, Any]] = SKUS, usages: list[dict[str, Any]] = USAGES
) -> dict[tuple[str, str], RegionOffer]:
    return {(SUB, WEU): region_offer(SUB, WEU, skus, usages)}


def target(index: int, size: str | None = "Standard_D8s_v5", **fields: Any) -> MachineTarget:
    values: dict[str, Any] = {
        "name": f"vm{index}",
        "path": f"groups[0].machines[{index}]",
        "subscription_id": SUB,
        "resource_group": "rg-target",
        "vm_name": f"vm{index}",
        "location": WEU,
        "zone": None,
        "size": size,
        **fields,
    }
    return MachineTarget(**values)


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [finding.code for finding in findings]


# -- reading what Compute lists ------------------------------------------------------------------------------------


def test_the_published_sku_example_reads_as_sizes_with_vcpus_families_and_zones() -> None:
    example = json.loads((FIXTURES / "2021-07-01" / "ListAvailableResourceSkusForARegion.json").read_text("utf-8"))
    read = region_offer(SUB, "westus", example["responses"]["200"]["body"]["value"], [])
    a0 = read.sizes["standard_a0"]
    assert (a0.name, a0.family, a0.vcpus, a0.zones, a0.restriction) == (
        "Standard_A0",
        "standardA0_A7Family",
        1,
        frozenset({"1", "2"}),
        None,
    )
    assert read.sizes["standard_a1"].zones == {"1", "2", "3"}


def test_the_published_usage_example_reads_as_a_quota() -> None:
    example = json.loads((FIXTURES / "2024-11-01" / "Usage_List_MaximumSet_Gen.json").read_text("utf-8"))
    read = region_offer(SUB, WEU, [], example["responses"]["200"]["body"]["value"])
    (quota,) = read.quotas.values()
    assert (quota.current, quota.limit, quota.free) == (17, 19, 2)


def test_entries_that_are_not_vm_sizes_or_not_whole_are_left_out() -> None:
    disk = {**sku("Premium_LRS", "x", 1), "resourceType": "disks"}
    broken = [disk, {"name": 7}, "not an object", {**sku("Standard_X1", "x", 1), "capabilities": "no"}]
    read = region_offer(SUB, WEU, broken, [{"name": "cores"}, usage("cores", 1, 2), {"name": {"value": "f"}}])
    assert list(read.sizes) == ["standard_x1"] and read.sizes["standard_x1"].vcpus is None
    assert list(read.quotas) == ["cores"]


def test_a_region_is_named_as_arm_names_it() -> None:
    assert location_name("West Europe") == location_name(" westeurope ") == WEU


# -- the size ------------------------------------------------------------------------------------------------------


def test_a_plan_that_fits_has_no_problem() -> None:
    fit = judge([target(0), target(1, "standard_d2s_v5")], offer())  # sizes match whatever their case
    assert fit.ok and fit.problems == () and fit.warnings == ()


def test_a_size_the_region_does_not_offer_is_refused() -> None:
    fit = judge([target(0, "Standard_M416ms_v2")], offer())
    (problem,) = fit.problems
    assert problem.code == "SizeNotOffered" and problem.paths == ("groups[0].machines[0].target.vmSize",)
    assert problem.message.startswith(f"Standard_M416ms_v2 is not offered in {WEU}")


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("NotAvailableForSubscription", "not available to the subscription"),
        ("QuotaId", "not allowed for the subscription's offer"),
    ],
)
def test_a_location_restriction_refuses_the_size_with_its_reason(reason: str, said: str) -> None:
    restricted = [sku("Standard_D8s_v5", "standardDSv5Family", 8, restrictions=[restriction("Location", reason)])]
    (problem,) = judge([target(0)], offer(restricted)).problems
    assert problem.code == "SizeRestricted"
    assert problem.message == f"Standard_D8s_v5 is {said} in {WEU} (subscription {SUB}; {reason})"


def test_a_restriction_of_another_region_does_not_count() -> None:
    elsewhere = {**restriction("Location"), "values": ["northeurope"]}
    assert judge([target(0)], offer([sku("Standard_D8s_v5", "standardDSv5Family", 8, restrictions=[elsewhere])])).ok


def test_a_zone_restriction_refuses_only_a_machine_placed_in_that_zone() -> None:
    zoned = [sku("Standard_D8s_v5", "standardDSv5Family", 8, restrictions=[restriction("Zone", zones=("2",))])]
    roomy = [usage("cores", 0, 100), usage("standardDSv5Family", 0, 50)]
    fit = judge([target(0, zone="2"), target(1, zone="1"), target(2)], offer(zoned, roomy))
    (problem,) = fit.problems
    assert (problem.code, problem.machines) == ("ZoneRestricted", ("vm0",))
    assert problem.message == (
        f"Standard_D8s_v5 is not available to the subscription in zone 2 of {WEU} "
        f"(subscription {SUB}; NotAvailableForSubscription)"
    )


def test_a_zone_the_size_is_not_offered_in_is_refused_with_the_zones_it_is() -> None:
    (problem,) = judge([target(0, "Standard_E4s_v5", zone="2")], offer()).problems
    assert problem.code == "ZoneNotOffered"
    assert problem.message == f"Standard_E4s_v5 is not offered in zone 2 of {WEU} (it is offered in zones 1, 3)"
    unzoned = [sku("Standard_E4s_v5", "standardESv5Family", 4, zones=())]
    (none,) = judge([target(0, "Standard_E4s_v5", zone="1")], offer(unzoned)).problems
    assert none.message.endswith("(it is offered in no zone)")


# -- the quotas ----------------------------------------------------------------------------------------------------


def test_the_family_quota_refuses_the_wave_with_the_figures() -> None:
    machines = [target(0), target(1), target(2), target(3, "Standard_E4s_v5")]
    fit = judge(machines, offer())
    (problem,) = fit.problems
    assert problem.code == "QuotaExceeded"
    assert problem.message == (
        f"standardDSv5Family in {WEU}: the plan needs 24 vCPUs, 40 of 50 are in use, 10 are free (subscription {SUB})"
    )
    assert problem.machines == ("vm0", "vm1", "vm2")  # the E-series machine fits its own family
    assert problem.paths == tuple(f"groups[0].machines[{i}].target.vmSize" for i in range(3))


def test_the_regional_total_counts_every_family() -> None:
    usages = [usage("cores", 95, 100), usage("standardDSv5Family", 0, 50), usage("standardESv5Family", 0, 20)]
    (problem,) = judge([target(0, "Standard_D2s_v5"), target(1, "Standard_E4s_v5")], offer(usages=usages)).problems
    assert problem.message.startswith(f"cores in {WEU}: the plan needs 6 vCPUs, 95 of 100 are in use, 5 are free")
    assert problem.machines == ("vm0", "vm1")


def test_a_quota_used_beyond_its_limit_has_nothing_free() -> None:
    usages = [usage("cores", 120, 100), usage("standardDSv5Family", 0, 50)]
    (problem,) = judge([target(0, "Standard_D2s_v5")], offer(usages=usages)).problems
    assert "120 of 100 are in use, 0 are free" in problem.message


def test_quotas_are_per_subscription_and_region() -> None:
    other = "99999999-1111-2222-3333-444444444444"
    offers = {**offer(), (other, WEU): region_offer(other, WEU, SKUS, USAGES)}
    fit = judge([target(0), target(1, subscription_id=other)], offers)
    assert fit.ok  # 8 of the 10 free vCPUs in each subscription
    fit = judge([target(0), target(1), target(2, subscription_id=other)], offers)
    assert [p.machines for p in fit.problems] == [("vm0", "vm1")]


def test_a_family_without_a_listed_quota_is_a_warning() -> None:
    fit = judge([target(0)], offer(usages=[usage("cores", 0, 100)]))
    assert fit.ok and codes(fit.warnings) == ["QuotaNotListed"]
    assert "lists no quota standardDSv5Family" in fit.warnings[0].message


# -- the VM name ---------------------------------------------------------------------------------------------------


def test_a_vm_name_taken_by_another_vm_is_refused() -> None:
    (problem,) = judge([target(0, existing="other")], offer()).problems
    assert (problem.code, problem.paths) == ("VmNameTaken", ("groups[0].machines[0].target.vmName",))
    assert problem.message.startswith("a VM named vm0 already exists in resource group rg-target")


def test_a_vm_that_may_be_the_migrations_own_is_neither_refused_nor_counted() -> None:
    tight = [usage("cores", 0, 100), usage("standardDSv5Family", 42, 50)]
    fit = judge([target(0, existing="ours"), target(1)], offer(usages=tight))
    assert fit.ok and fit.warnings == ()  # 8 of 8 free: the one already there is in currentValue


def test_a_name_that_could_not_be_checked_is_a_warning() -> None:
    fit = judge([target(0, existing=None, existing_unknown="forbidden (AuthorizationFailed)")], offer())
    assert fit.ok and codes(fit.warnings) == ["VmNameNotChecked"]
    assert fit.warnings[0].message.endswith("forbidden (AuthorizationFailed)")


# -- what is not known ---------------------------------------------------------------------------------------------


def test_no_size_is_a_warning_and_counts_nothing() -> None:
    tight = [usage("cores", 0, 100), usage("standardDSv5Family", 50, 50)]
    fit = judge([target(0, None), target(1, None)], offer(usages=tight))
    assert fit.ok and codes(fit.warnings) == ["SizeChosenByAsr"]
    assert fit.warnings[0].machines == ("vm0", "vm1")  # one warning, both paths
    assert fit.warnings[0].message.startswith("no size given: Site Recovery picks")


def test_an_azure_vms_source_size_is_noted_checked_and_counted() -> None:
    tight = [usage("cores", 0, 100), usage("standardDSv5Family", 49, 50)]
    fit = judge([target(0, "Standard_D2s_v5", size_from="source")], offer(usages=tight))
    assert codes(fit.notes) == ["SizeOfSource"] and "its source VM's size, Standard_D2s_v5" in fit.notes[0].message
    assert codes(fit.problems) == ["QuotaExceeded"]


def test_an_unreadable_source_size_is_a_warning() -> None:
    fit = judge([target(0, None, size_from="source", size_unknown="no VM x exists")], offer())
    assert fit.ok and codes(fit.warnings) == ["SourceSizeUnknown"] and "(no VM x exists)" in fit.warnings[0].message


@pytest.mark.parametrize(
    ("machine", "offers", "code"),
    [
        (target(0, location=None, location_unknown="vault v could not be read"), offer(), "RegionUnknown"),
        (target(0), {(SUB, WEU): RegionOffer(SUB, WEU, unread="forbidden (AuthorizationFailed)")}, "RegionNotRead"),
        (target(0), {}, "RegionNotRead"),
        (target(0), offer(skus=[]), "NoSizesListed"),
        (target(0, "Standard_X1"), offer([{**sku("Standard_X1", "x", 1), "capabilities": []}]), "VcpusUnknown"),
    ],
    ids=["region", "lists-refused", "lists-not-read", "no-sizes", "no-vcpus"],
)
def test_what_could_not_be_read_is_a_warning_not_a_refusal(
    machine: MachineTarget, offers: dict[tuple[str, str], RegionOffer], code: str
) -> None:
    fit = judge([machine], offers)
    assert fit.ok and codes(fit.warnings) == [code]


# -- the payloads --------------------------------------------------------------------------------------------------


def test_the_verdict_and_the_request_read_back_what_was_sent() -> None:
    fit = judge([target(0), target(1), target(2), target(3, None)], offer())
    wire = json.loads(json.dumps(fit.to_dict()))
    assert TargetFit.from_dict(wire) == fit and wire["problems"][0]["code"] == "QuotaExceeded"
    request = TargetFitRequest({"id": "w", "groups": []})
    assert TargetFitRequest.from_dict(request.to_dict()) == request
    with pytest.raises(PayloadError, match="plan"):
        TargetFitRequest.from_dict({})


def test_a_finding_names_one_path_per_machine() -> None:
    with pytest.raises(PayloadError, match="one path per machine"):
        Finding.from_dict({"code": "X", "message": "m", "machines": ["a", "b"], "paths": ["p"]})


# -- what the wave does with it ------------------------------------------------------------------------------------


MIXED = example_plan("mixed-wave.yaml")
NAMES = [machine.name for _, machine in MIXED.machines()]


def test_a_plan_that_fits_fails_no_machine() -> None:
    assert refusals(TargetFit((), (Finding("SizeChosenByAsr", "m", ("db01",), ("p",)),), ()).to_dict(), NAMES) == {}


def test_a_misfit_fails_every_machine_at_validate_and_the_wave_holds() -> None:
    message = "standardDSv5Family in northeurope: the plan needs 4 vCPUs, 50 of 50 are in use, 0 are free"
    problem = Finding("QuotaExceeded", message, ("app01",), ("groups[1].machines[0].target.vmSize",))
    records = refusals(TargetFit((problem,), (), ()).to_dict(), NAMES)
    assert set(records) == set(NAMES)
    app01 = records["app01"]
    assert (app01["outcome"], app01["stage"], app01["error"]["code"]) == ("failed", "validate", DOES_NOT_FIT)
    assert app01["error"]["message"] == f"groups[1].machines[0].target.vmSize: {message}"
    db01 = records["db01"]["error"]
    assert (db01["code"], db01["stage"]) == (NOT_STARTED, "validate") and "target of app01 does not fit" in db01[
        "message"
    ]

    state = WaveState(MIXED, datetime(2026, 12, 5, tzinfo=UTC), timedelta(hours=1))
    for machine, record in records.items():
        state.absorb(machine, record)
    assert state.unsettled() == [] and state.counts() == {"failed": 6}  # no machine is prepared
    assert isinstance(state.gate(datetime(2026, 12, 5, tzinfo=UTC)), Hold)  # onMachineFailure: hold
    state.apply_command({"action": "retry", "actor": "op", "reason": "quota raised", "machines": []}, state.started_at)
    assert state.unsettled() == NAMES and {state.machines[m].retry_from for m in NAMES} == {"validate"}


def test_a_check_that_could_not_be_made_fails_every_machine_with_its_error() -> None:
    error = {"stage": None, "code": "TransientFailuresExhausted", "message": "503", "jobId": None, "transient": True}
    records = refusals({"error": error}, NAMES)
    assert {record["error"]["code"] for record in records.values()} == {"TransientFailuresExhausted"}
    assert {record["error"]["stage"] for record in records.values()} == {"validate"}


def test_a_restricted_size_still_counts_toward_what_the_plan_needs() -> None:
    zoned = [sku("Standard_D8s_v5", "standardDSv5Family", 8, restrictions=[restriction("Zone", zones=("2",))])]
    fit = judge([target(0, zone="2"), target(1)], offer(zoned))
    assert codes(fit.problems) == ["ZoneRestricted", "QuotaExceeded"]
    assert "the plan needs 16 vCPUs" in fit.problems[1].message and fit.problems[1].machines == ("vm0", "vm1")
