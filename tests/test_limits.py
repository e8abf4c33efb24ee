"""Limits per UTC day and per phase: every status but error counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from records_factory import OPEN, challenge, result, utc

from runner.limits import check_limits
from runner.models import Limits

NOW = utc("2026-12-05T18:30")
CH = challenge()


def today(status: str, hour: int, **kw):
    return result(status=status, created_at=utc("2026-12-05T00:00") + timedelta(hours=hour), **kw)


def test_daily_limit_reached_says_when_to_come_back():
    records = [today(s, h) for h, s in enumerate(("scored", "invalid", "failed", "timeout", "oom"))]
    status = check_limits(CH, OPEN, records, "alice", NOW)
    assert (status.allowed, status.used_today, status.left_today, status.left_total) == (
        False,
        5,
        0,
        95,
    )
    assert status.resets_at == utc("2026-12-06T00:00")
    assert status.message == ("5 of 5 evaluations used today (UTC); next at 2026-12-06 00:00 UTC")


def test_past_the_limit_the_count_and_the_limit_are_said_apart():
    """Records made without limits (or a limit lowered since) exceed it: never "6 of 5"."""
    records = [today("scored", h) for h in range(6)]
    status = check_limits(CH, OPEN, records, "alice", NOW)
    assert (status.allowed, status.used_today, status.left_today) == (False, 6, 0)
    assert status.message == (
        "6 evaluations used today (UTC), more than the limit of 5; next at 2026-12-06 00:00 UTC"
    )
    phase = replace(OPEN, limits=Limits(per_day=None, total=3))
    ch = challenge(phases=(phase,))
    assert check_limits(ch, phase, records, "alice", NOW).message == (
        "6 evaluations used in phase open, more than the limit of 3; "
        "no further evaluations can rank in this challenge"
    )


def test_platform_errors_never_count():
    records = [today("scored", h) for h in range(4)] + [today("error", 5 + h) for h in range(3)]
    status = check_limits(CH, OPEN, records, "alice", NOW)
    assert status.allowed and status.used_today == 4 and status.left_today == 1
    assert status.message == "1 of 5 left today (UTC); 96 of 100 left in phase open"


def test_the_day_is_the_utc_day_and_the_total_is_the_phase():
    yesterday = [result(created_at=utc("2026-12-04T23:59:59")) for _ in range(5)]
    before_phase = [result(created_at=utc("2026-11-30T12:00"), phase=None) for _ in range(9)]
    other_challenge = [today("scored", 1, challenge="diabetes") for _ in range(9)]
    other_person = [today("scored", 1, participant="bob") for _ in range(9)]
    records = yesterday + before_phase + other_challenge + other_person + [today("scored", 1)]
    status = check_limits(CH, OPEN, records, "alice", NOW)
    assert (status.used_today, status.left_today, status.left_total) == (1, 4, 94)
    assert status.allowed


def test_total_limit_reached_points_to_the_next_phase():
    phase = replace(OPEN, limits=Limits(per_day=None, total=3))
    ch = challenge(phases=(phase, *CH.phases[1:]))
    records = [result(created_at=utc(f"2026-12-0{d}T10:00")) for d in (1, 2, 3)]
    status = check_limits(ch, phase, records, "alice", NOW)
    assert not status.allowed and status.left_today is None and status.resets_at is None
    assert status.message == (
        "3 of 3 evaluations used in phase open; next at 2027-03-01 00:00 UTC when phase final opens"
    )
    last = challenge(phases=(phase,))
    assert check_limits(last, phase, records, "alice", NOW).message == (
        "3 of 3 evaluations used in phase open; no further evaluations can rank in this challenge"
    )


def test_daily_limit_on_the_last_day_of_a_phase():
    now = utc("2027-02-28T20:00")
    records = [result(created_at=utc("2027-02-28T00:00") + timedelta(hours=h)) for h in range(5)]
    status = check_limits(CH, OPEN, records, "alice", now)
    assert not status.allowed
    assert status.message == (
        "5 of 5 evaluations used today (UTC); phase open ends before the reset; "
        "next at 2027-03-01 00:00 UTC when phase final opens"
    )


def test_a_revealed_record_does_not_count_twice():
    original = today("scored", 1)
    correction = replace(original, evaluation_id="20270308T000000Z-00000001",
                         supersedes=original.evaluation_id)  # fmt: skip
    status = check_limits(CH, OPEN, [original, correction], "alice", NOW)
    assert status.used_today == 1


def test_team_and_member_quotas():
    records = [
        today("scored", 1, participant="alice", team="red"),
        today("scored", 2, participant="bob", team="red"),
        today("scored", 3, participant="alice"),
    ]
    assert check_limits(CH, OPEN, records, "red", NOW).used_today == 2
    assert check_limits(CH, OPEN, records, "alice", NOW).used_today == 2  # own + team
    assert check_limits(CH, OPEN, records, "bob", NOW).used_today == 1


def test_no_phase_no_limits():
    status = check_limits(CH, None, [today("scored", h) for h in range(9)], "alice", NOW)
    assert status.allowed
    assert status.message == "no phase is open: this evaluation will not rank"


def test_a_phase_without_limits():
    phase = replace(OPEN, limits=Limits())
    status = check_limits(CH, phase, [today("scored", h) for h in range(9)], "alice", NOW)
    assert status.allowed and status.used_today == 9 and status.left_today is None
    assert status.message == "no evaluation limits in phase open"


def test_joining_a_team_gives_no_extra_evaluations():
    from runner.limits import check_submitter_limits

    ch = challenge()  # open phase: 5 per UTC day
    day = utc("2026-12-05T10:00")
    solo = [result(participant="alice", created_at=day + timedelta(minutes=i)) for i in range(5)]
    now = day + timedelta(hours=1)
    assert check_limits(ch, OPEN, solo, "red", now).allowed  # the team alone has room...
    status = check_submitter_limits(ch, OPEN, solo, "alice", "red", now)
    assert not status.allowed  # ...but alice has used hers
    assert status.message == check_limits(ch, OPEN, solo, "alice", now).message
    team = [
        result(participant="bob", team="red", created_at=day + timedelta(minutes=i))
        for i in range(3)
    ]
    roomy = check_submitter_limits(ch, OPEN, team, "alice", "red", now)
    assert (roomy.allowed, roomy.left_today) == (True, 2)  # the tighter of alice's 5 and red's 2


# ---------------------------------------------------------------- admit: one decision


def test_a_plan_of_eight_items_gets_five_the_rest_is_over_the_limit():
    from runner.limits import Claim, admit

    statuses = admit(CH, [], [Claim("alice", None, 1001)] * 8, NOW)
    assert [s.allowed for s in statuses] == [True] * 5 + [False] * 3
    assert statuses[4].left_today == 1  # before the fifth was counted
    assert (
        statuses[5].message == "5 of 5 evaluations used today (UTC); next at 2026-12-06 00:00 UTC"
    )


def test_admit_counts_committed_records_and_the_plans_earlier_items_together():
    from runner.limits import Claim, admit

    records = [today("scored", h) for h in range(3)]
    statuses = admit(
        CH, records, [Claim("alice"), Claim("bob"), Claim("alice"), Claim("alice")], NOW
    )
    assert [s.allowed for s in statuses] == [True, True, True, False]


def test_two_racing_prs_cannot_both_record_past_the_limit():
    """pr record re-checks new records against the freshly fetched store."""
    from runner.limits import admit

    store = [today("scored", h) for h in range(4)]  # the other PR landed its 4th
    mine = [today("scored", 10, evaluation_id=f"20261205T100000Z-0000000{i}") for i in (1, 2)]
    assert [s.allowed for s in admit(CH, store, mine, NOW)] == [True, False]


def test_new_platform_errors_and_reevaluations_always_fit():
    from runner.limits import admit

    store = [today("scored", h) for h in range(5)]
    error = today("error", 10, evaluation_id="20261205T100000Z-00000001")
    again = replace(store[0], evaluation_id="20261205T100000Z-00000002",
                    supersedes=store[0].evaluation_id)  # fmt: skip
    fresh = today("scored", 11, evaluation_id="20261205T110000Z-00000003")
    assert [s.allowed for s in admit(CH, store, [error, again, fresh], NOW)] == [True, True, False]


def test_case_variants_and_renames_share_one_quota():
    """ALICE is alice; alice renamed to alice2 (same user id) is alice too."""
    from runner.limits import Claim, admit

    records = [today("scored", h, participant="alice", user_id=1001) for h in range(3)]
    records.append(today("scored", 4, participant="Alice"))  # a local record, no id
    assert check_limits(CH, OPEN, records, "ALICE", NOW).used_today == 4
    statuses = admit(CH, records, [Claim("alice2", None, 1001), Claim("ALICE")], NOW)
    assert [s.allowed for s in statuses] == [True, False]
    other = admit(CH, records, [Claim("alice", None, 2002)], NOW)[0]  # a login that changed hands
    assert other.allowed and other.used_today == 0  # the old account's records are not its


def test_a_claim_with_an_id_counts_the_records_of_its_login_that_have_none():
    """alice's records so far carry no id (local runs); her pull request (id 1001) draws on
    the same quota, as a record of alice/1001 would tie them."""
    from runner.limits import Claim, admit, remaining

    records = [today("scored", h, participant="alice") for h in range(5)]
    assert not admit(CH, records, [Claim("alice", None, 1001)], NOW)[0].allowed
    assert remaining(CH, records[:2], "alice", None, NOW, 1001).left_today == 3


def test_team_names_differing_in_case_are_one_team():
    records = [today("scored", h, participant="bob", team="Red") for h in range(5)]
    assert not check_limits(CH, OPEN, records, "red", NOW).allowed


def test_a_closed_phase_refuses_every_submission_and_says_so():
    closed = replace(OPEN, limits=Limits(per_day=0))
    ch = replace(CH, phases=(closed, *CH.phases[1:]))
    status = check_limits(ch, closed, [], "alice", NOW)
    assert not status.allowed and status.left_today == 0
    assert status.message.startswith("phase open is closed to new submissions; next at ")
