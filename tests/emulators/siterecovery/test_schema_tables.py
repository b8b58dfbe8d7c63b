"""The request validation tables agree with the SDK's model tables (required flags, subtypes)."""

from __future__ import annotations

import pytest

from emulators.siterecovery import migration_schema, schema
from tests.support.sdk_tables import models

# The protected items' request models and the migration items' (agentless VMware), checked alike.
ROOTS = [*schema.ROOTS, *migration_schema.ROOTS]
MODELS = sorted({m.name: m for root in ROOTS for m in schema.all_models(root)}.values(), key=lambda m: m.name)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_matches_sdk_table(model: schema.Model) -> None:
    table = models()
    assert model.name in table, f"{model.name} is not an SDK model"
    fields = {f["rest_name"]: f for f in table[model.name]["fields"]}
    for name, spec in model.fields.items():
        assert name in fields, f"{model.name}.{name} is not in the SDK model"
        assert spec.required == fields[name]["required"], f"{model.name}.{name} required flag"
    required = {n for n, f in fields.items() if f["required"]}
    assert required <= set(model.fields), f"{model.name}: required fields not validated: {required - set(model.fields)}"
    if model.subtypes is not None:
        subtypes = {
            m["discriminator_value"]
            for m in table.values()
            if model.name in m["bases"] and m["discriminator_value"] is not None
        }
        assert set(model.subtypes) == subtypes, model.name
        for value, sub in model.subtypes.items():
            assert table[sub.name]["discriminator_value"] == value
