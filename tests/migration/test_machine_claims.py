"""What a plan claims: every source of every machine, under an id that names the source and nothing else."""

from __future__ import annotations

from migration.instance_ids import Kind, claim_id, idempotency_id, parse
from migration.machine_claims import claims_of, owned_message
from tests.support.machines import example_plan


def test_every_source_of_every_machine_is_claimed_with_its_path() -> None:
    plan = example_plan("vmware.yaml")
    claims = claims_of(plan)
    machines = [machine.name for _, machine in plan.machines()]
    assert sorted({claim.machine for claim in claims}) == sorted(machines)
    first = [claim for claim in claims if claim.machine == machines[0]]
    assert {claim.kind for claim in first} == {"protectable item", "discovered machine"}
    assert {claim.path for claim in first} == {
        "groups[0].machines[0].asr.protectableItem",
        "groups[0].machines[0].asr.discoveredMachineId",
    }
    assert len({claim.instance_id for claim in claims}) == len(claims)


def test_an_azure_vm_is_claimed_by_its_source_vm_id() -> None:
    plan = example_plan("azure.yaml")
    kinds = {claim.kind for claim in claims_of(plan)}
    assert "source VM" in kinds and "discovered machine" not in kinds


def test_the_claim_id_names_the_source_not_the_migration() -> None:
    one = example_plan("vmware.yaml")
    other = one.model_copy(update={"id": "another-wave"})
    assert [c.instance_id for c in claims_of(one)] == [c.instance_id for c in claims_of(other)]
    assert claim_id("source VM", "x") != claim_id("discovered machine", "x")
    identifier = claim_id(
        "source VM", "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/a"
    )
    assert len(identifier) == len("claim~") + 40 and "/" not in identifier
    assert parse(identifier).kind is Kind.CLAIM
    assert parse("claim~not-a-digest").kind is Kind.OTHER
    assert parse(identifier + ":1").kind is Kind.OTHER
    key = idempotency_id("submissions", "k-1")
    assert parse(key).kind is Kind.KEY and key != idempotency_id("commands of wave-1", "k-1")


def test_the_refusal_names_the_machine_the_source_and_the_owner() -> None:
    claim = claims_of(example_plan("vmware.yaml"))[0]
    running = owned_message(claim, "wave-7", "Running")
    assert claim.machine in running and claim.key in running and "'wave-7', which is Running" in running
    assert "being submitted" in owned_message(claim, "wave-7", None)
