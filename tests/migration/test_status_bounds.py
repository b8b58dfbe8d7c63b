"""The pieces a custom status is built from stay small whatever the plan or the command holds."""

from __future__ import annotations

from migration.status_bounds import (
    CUSTOM_STATUS_MAX_BYTES,
    NAMES_SHOWN,
    clipped,
    control_excerpt,
    error_excerpt,
    first_names,
    names_text,
    utf16_size,
)

LONGEST_NAME = "n" * 64


def test_utf16_size_counts_two_bytes_per_code_unit_and_four_outside_the_basic_plane() -> None:
    assert utf16_size("ab") == 2 * len('"ab"')
    assert utf16_size("é") == 2 * 3
    assert utf16_size("𝄞") == 2 * (2 + 2)  # a surrogate pair
    assert utf16_size({"a": [1, 2]}) == 2 * len('{"a":[1,2]}')


def test_names_are_listed_up_to_the_limit_and_counted_past_it() -> None:
    names = [f"vm{index}" for index in range(25)]
    assert first_names(names) == names[:NAMES_SHOWN]
    assert first_names(iter(names), 3) == ["vm0", "vm1", "vm2"]
    assert names_text(names[:2]) == "vm0, vm1"
    assert names_text(names).endswith(f"vm{NAMES_SHOWN - 1} and {25 - NAMES_SHOWN} more")


def test_clipped_keeps_short_texts_and_marks_a_cut() -> None:
    assert clipped("short") == "short"
    assert clipped("x" * 500, 10) == "x" * 9 + "…"


def test_the_largest_command_a_wave_can_record_fits_many_times_in_a_status() -> None:
    control = {
        "action": "approve",
        "actor": "a" * 200,
        "reason": "r" * 1000,
        "machines": [LONGEST_NAME] * 1000,
        "accepted": False,
        "detail": "unknown machines: " + names_text([LONGEST_NAME] * 1000),
        "at": "2026-12-02T18:00:00.000000+00:00",
        "window": {"notBefore": "2026-12-05T22:00:00+00:00", "notAfter": "2026-12-06T04:00:00+00:00"},
    }
    excerpt = control_excerpt(control)
    assert excerpt["machineCount"] == 1000 and len(excerpt["machines"]) == NAMES_SHOWN
    assert utf16_size(excerpt) < CUSTOM_STATUS_MAX_BYTES // 4


def test_an_error_message_is_clipped_and_the_rest_of_the_record_kept() -> None:
    error = {"stage": "failover", "code": "Boom", "message": "m" * 50_000, "jobId": "j", "transient": False}
    excerpt = error_excerpt(error)
    assert excerpt is not None and len(excerpt["message"]) == 1000
    assert {k: v for k, v in excerpt.items() if k != "message"} == {k: v for k, v in error.items() if k != "message"}
    assert error_excerpt(None) is None
