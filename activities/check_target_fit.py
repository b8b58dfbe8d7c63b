"""Activity: before a wave starts any machine, does its target fit? Sizes, vCPU quotas and VM names, for the plan.

A quota is shared by every machine of a region, so this is judged once for the whole plan, not in each machine's
validate stage. The reads live in :func:`migration.preflight.check_target_fit` and the rules in
:mod:`migration.target_fit`, shared with the command line's ``validate``; this activity only builds the adapters
from the app settings and calls it. Nothing is changed.

Input :class:`migration.payloads.target_fit.TargetFitRequest`. Output :class:`migration.payloads.target_fit.TargetFit`
(``{"problems", "warnings", "notes"}``), or ``{"error": error record}`` when Site Recovery refused a read for good;
a transient failure is raised, so the retry policy applies.
"""

from __future__ import annotations

import logging
from typing import Any

import azure.durable_functions as df

from activities.site_recovery import compute, site_recovery
from migration import function_names as names
from migration import preflight
from migration.errors import AsrPermanentError
from migration.payloads.target_fit import TargetFitRequest
from migration.plan import validate_plan

name = names.CHECK_TARGET_FIT
bp = df.Blueprint()

_log = logging.getLogger(__name__)


@bp.activity_trigger(input_name="request", activity=names.CHECK_TARGET_FIT)
def check_target_fit(request: dict[str, Any]) -> dict[str, Any]:
    plan = validate_plan(TargetFitRequest.from_dict(request).plan)
    try:
        fit = preflight.check_target_fit(site_recovery(), compute(), plan)
    except AsrPermanentError as error:
        return {"error": error.to_dict()}
    for warning in fit.warnings:  # what was not checked: the wave goes on, and the log says what was not judged
        _log.info("%s: %s (%s)", plan.id, warning.message, ", ".join(warning.paths[:10]))
    return fit.to_dict()
