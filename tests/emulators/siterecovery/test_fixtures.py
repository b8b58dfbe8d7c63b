"""The contract tests' reference data is whole and what it says it is.

The official examples are carried as fixtures; ``MANIFEST.tsv`` records each file's size and SHA-256 as
taken from Azure/azure-rest-api-specs, so an edited, truncated or line-ending-converted copy fails here
instead of quietly changing what the contract tests compare against. The SDK tables are derived from the
installed package at test time; a few known facts of SDK 2.0.0 pin that the derivation still reads them.
"""

from __future__ import annotations

import csv
import hashlib

import pytest

from tests.support.asr_examples import EXAMPLES_DIR
from tests.support.sdk_tables import enums, models, operations

MANIFEST = EXAMPLES_DIR / "MANIFEST.tsv"


def manifest() -> list[dict[str, str]]:
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("row", manifest(), ids=lambda row: row["file"])
def test_listed_file_has_its_recorded_size_and_digest(row: dict[str, str]) -> None:
    path = EXAMPLES_DIR / row["file"]
    assert path.is_file(), f"{row['file']} is listed in {MANIFEST.name} but missing"
    content = path.read_bytes()
    assert len(content) == int(row["bytes"]), row["file"]
    assert hashlib.sha256(content).hexdigest() == row["sha256"], row["file"]


def test_every_example_is_listed() -> None:
    listed = {row["file"] for row in manifest()}
    present = {path.name for path in EXAMPLES_DIR.glob("*.json")}
    assert present, f"no examples in {EXAMPLES_DIR}"
    assert present - listed == set(), f"not in {MANIFEST.name}"


def test_model_table_reads_discriminators_and_required_fields() -> None:
    base = models()["EnableProtectionProviderSpecificInput"]
    assert base["subtypes_by_discriminator"]["InMageRcm"] == "InMageRcmEnableProtectionInput"
    assert models()["InMageRcmEnableProtectionInput"]["discriminator_value"] == "InMageRcm"
    assert models()["A2AEnableProtectionInput"]["bases"] == ["EnableProtectionProviderSpecificInput"]
    fields = {f["rest_name"]: f for f in models()["A2AEnableProtectionInput"]["fields"]}
    assert fields["fabricObjectId"]["required"] is True
    assert fields["fabricObjectId"]["python_name"] == "fabric_object_id"
    assert fields["recoveryContainerId"]["required"] is False
    assert fields["vmDisks"]["refs"] == ["A2AVmDiskInputDetails"]
    assert fields["autoProtectionOfDataDisk"]["enum"] == ["AutoProtectionOfDataDisk"]
    assert enums()["AutoProtectionOfDataDisk"] == ["Disabled", "Enabled"]


def test_operation_table_reads_routes_status_codes_and_results() -> None:
    items = operations()["ReplicationProtectedItemsOperations"]
    create = items["begin_create"]
    assert (create["http_method"], create["accepted_status"]) == ("PUT", [200, 202])
    assert create["url"].endswith(
        "/replicationProtectionContainers/{protectionContainerName}"
        "/replicationProtectedItems/{replicatedProtectedItemName}"
    )
    assert create["url"].startswith("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/")
    assert (create["lro"], create["pageable"], create["result_model"]) == (True, False, "ReplicationProtectedItem")
    assert items["begin_delete"]["accepted_status"] == [202, 204]
    assert items["begin_delete"]["result_model"] is None
    jobs = operations()["ReplicationJobsOperations"]["list"]
    assert (jobs["http_method"], jobs["pageable"], jobs["lro"], jobs["result_model"]) == ("GET", True, False, "Job")
