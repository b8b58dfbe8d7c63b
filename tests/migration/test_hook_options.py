"""A group's hooks in the plan (``migration.hook_options``): what is accepted, and every refusal by its path."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from migration.hook_options import MAX_HOOKS, HttpHook, RunCommandHook
from migration.plan import check_plan, validate_plan

from .plan_data import inmage_machine, plan

LOGIC_APP = (
    "https://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=S3CR3T"
)


def two_groups(before: list[Any] | None = None, after: list[Any] | None = None) -> dict[str, Any]:
    """db-01 then web-01 and web-02; the hooks given belong to the second group."""
    document: dict[str, Any] = plan([inmage_machine("db-01")], [inmage_machine("web-01"), inmage_machine("web-02")])
    hooks: dict[str, Any] = {}
    if before is not None:
        hooks["beforeCutover"] = before
    if after is not None:
        hooks["afterCutover"] = after
    document["groups"][1]["hooks"] = hooks
    return document


def http(name: str = "drain-lb", **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": "http", "url": LOGIC_APP, **fields}


def run_command(name: str = "stop-app", machines: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "runCommand",
        "machines": ["db-01"] if machines is None else machines,
        "script": "systemctl stop app",
        **fields,
    }


def problems(document: dict[str, Any]) -> dict[str, str]:
    found = check_plan(document)
    assert found, "the plan was accepted"
    return {problem["path"]: problem["message"] for problem in found}


def test_hooks_of_both_kinds_are_read_with_their_defaults() -> None:
    document = two_groups(
        before=[http(expectStatus=[200, 202], retries=3, retryDelay="PT1M", timeout=10), run_command()],
        after=[run_command("smoke", ["web-01", "WEB-02"], expectOutput="^ok", os="linux")],
    )
    hooks = validate_plan(document).groups[1].hooks
    assert hooks is not None
    drain, stop = hooks.of("beforeCutover")
    assert isinstance(drain, HttpHook) and isinstance(stop, RunCommandHook)
    assert (drain.retries, drain.retry_delay, drain.timeout) == (3, timedelta(minutes=1), timedelta(seconds=10))
    assert drain.passes(202) and not drain.passes(204)
    assert stop.machines == ["db-01"] and stop.expect_exit_code == 0 and stop.timeout == timedelta(minutes=10)
    (smoke,) = hooks.of("afterCutover")
    assert isinstance(smoke, RunCommandHook) and smoke.machines == ["web-01", "WEB-02"]
    plain = validate_plan(two_groups(before=[http()])).groups[1].hooks
    assert plain is not None
    default = plain.before_cutover[0]
    assert isinstance(default, HttpHook)
    assert (default.retries, default.retry_delay, default.timeout) == (2, timedelta(seconds=30), timedelta(seconds=30))
    assert default.passes(200) and default.passes(299) and not default.passes(302) and not default.passes(500)
    assert validate_plan(plan([inmage_machine()])).groups[0].hooks is None, "a group without hooks has none"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "must be an absolute https URL"),
        ("http://hooks.example.com/x", "must use https (plain http is allowed only to localhost / loopback)"),
        ("https://user:pw@hooks.example.com/x", "must not carry a user name or password"),
        ("/relative/path", "must be an absolute https URL"),
    ],
)
def test_a_bad_url_is_refused_at_its_path_without_echoing_it(url: str, message: str) -> None:
    found = problems(two_groups(before=[http(), http("switch-dns", url=url)]))
    assert found == {"groups[1].hooks.beforeCutover[1].url": message}


def test_duplicate_names_are_refused_in_a_list_whatever_else_is_wrong_but_allowed_across_lists() -> None:
    document = two_groups(before=[http(), http("Drain-LB", timeout="PT10M")], after=[http()])
    assert problems(document) == {
        "groups[1].hooks.beforeCutover[1].name": (
            "duplicate hook name 'Drain-LB' (also beforeCutover[0]); names are unique in a list"
        ),
        "groups[1].hooks.beforeCutover[1].timeout": "must be between PT1S and PT2M (got PT10M)",
    }


def test_at_most_ten_hooks_per_list() -> None:
    many = [http(f"hook-{i}") for i in range(MAX_HOOKS + 1)]
    assert problems(two_groups(after=many)) == {
        "groups[1].hooks.afterCutover": "List should have at most 10 items after validation, not 11"
    }
    assert check_plan(two_groups(after=many[:MAX_HOOKS])) == []


def test_a_hook_names_its_type() -> None:
    found = problems(two_groups(before=[{"name": "x", "url": LOGIC_APP}, {"name": "y", "type": "ssh"}, "curl"]))
    assert set(found) == {f"groups[1].hooks.beforeCutover[{i}]" for i in range(3)}
    assert set(found.values()) == {"a hook is an object whose type is http or runCommand"}
    unknown = problems(two_groups(before=[http(method="GET")]))
    assert unknown == {
        "groups[1].hooks.beforeCutover[0].method": "unknown field (check the spelling; fields are camelCase)"
    }


def test_limits_of_an_http_hook() -> None:
    found = problems(
        two_groups(
            before=[
                http("a", retries=6),
                http("b", retryDelay="PT1H"),
                http("c", expectStatus=[]),
                http("d", expectStatus=[700]),
                http("e", expectStatus=[200, 200]),
            ]
        )
    )
    assert found == {
        "groups[1].hooks.beforeCutover[0].retries": "Input should be less than or equal to 5",
        "groups[1].hooks.beforeCutover[1].retryDelay": "must be between PT1S and PT10M (got PT1H)",
        "groups[1].hooks.beforeCutover[2].expectStatus": "List should have at least 1 item after validation, not 0",
        "groups[1].hooks.beforeCutover[3].expectStatus[0]": "Input should be less than or equal to 599",
        "groups[1].hooks.beforeCutover[4]": "expectStatus lists a status twice",
    }


def test_a_run_command_hook_names_machines_that_have_migrated_by_then() -> None:
    document = two_groups(
        before=[run_command(machines=["db-01", "web-01", "ghost"])],
        after=[run_command("smoke", ["web-02", "db-01"]), run_command("twice", ["db-01", "DB-01"])],
    )
    document["groups"].append({"name": "late", "machines": [inmage_machine("app-01")]})
    document["groups"][1]["hooks"]["afterCutover"].append(run_command("too-early", ["app-01"]))
    assert problems(document) == {
        "groups[1].hooks.beforeCutover[0].machines[1]": "'web-01' cuts over in groups[1], after this hook: it runs on "
        "migrated VMs",
        "groups[1].hooks.beforeCutover[0].machines[2]": "no machine of the plan is called 'ghost'",
        "groups[1].hooks.afterCutover[1]": "machines lists a machine twice",
        "groups[1].hooks.afterCutover[2].machines[0]": "'app-01' cuts over in groups[2], after this hook: it runs on "
        "migrated VMs",
    }


def test_a_run_command_hook_is_a_check_script() -> None:
    found = problems(
        two_groups(
            after=[
                run_command("both", ["web-01"], scriptUri="https://st.blob.core.windows.net/s/run.sh?sig=x"),
                {"name": "none", "type": "runCommand", "machines": ["web-01"]},
                run_command("empty", []),
                run_command("bad-pattern", ["web-01"], expectOutput="(unclosed"),
            ]
        )
    )
    assert found["groups[1].hooks.afterCutover[0]"] == "give exactly one of script and scriptUri"
    assert found["groups[1].hooks.afterCutover[1]"] == "give exactly one of script and scriptUri"
    assert (
        found["groups[1].hooks.afterCutover[2].machines"] == "List should have at least 1 item after validation, not 0"
    )
    assert found["groups[1].hooks.afterCutover[3]"].startswith("not a regular expression")


def test_hook_problems_come_with_every_other_problem_of_the_plan_and_no_secret() -> None:
    document = two_groups(before=[http(url="http://hooks.example.com/x?sig=S3CR3T"), run_command(machines=["nope"])])
    broken = copy.deepcopy(document)
    broken["groups"][0]["machines"][0]["target"]["networkId"] = "not-an-id"
    found = problems(broken)
    assert set(found) == {
        "groups[0].machines[0].target.networkId",
        "groups[1].hooks.beforeCutover[0].url",
        "groups[1].hooks.beforeCutover[1].machines[0]",
    }
    assert all("S3CR3T" not in message for message in found.values())
