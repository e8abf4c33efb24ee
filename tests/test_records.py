"""Result records: schema, atomic never-overwriting writes, fast bulk loading, cache keys."""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from records_factory import result, scores, sha, utc

from runner.errors import RecordError
from runner.models import LadderStats, Score
from runner.records import (
    cache_key,
    check_record,
    current_results,
    find_cached,
    load_results,
    new_evaluation_id,
    read_result,
    result_from_dict,
    result_path,
    result_to_dict,
    write_result,
)
from runner.records.check import _explain, _fast_ok
from runner.schemas import load_schema, validator

EXAMPLES = Path(__file__).parent / "examples" / "results"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))


def schema_accepts(data) -> bool:
    return validator("result").is_valid(data)


# ---------------------------------------------------------------- the schema


def test_schema_is_strict_draft07_and_describes_every_field():
    schema = load_schema("result")
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == "https://challenge-runner.dev/schemas/result.schema.json"

    def walk(node, where):
        if node.get("type") == "object" or "properties" in node:
            if "properties" in node and "additionalProperties" in node:
                assert node["additionalProperties"] is False, where
            for name, sub in node.get("properties", {}).items():
                assert sub.get("description"), f"{where}.{name} has no description"
                walk(sub, f"{where}.{name}")

    walk(schema, "$")
    assert set(schema["required"]) == set(schema["properties"])


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_examples_pass_both_validators(path):
    data = json.loads(path.read_text())
    assert schema_accepts(data)
    assert check_record(data) is None
    record = read_result(path)
    assert result_to_dict(record) == data  # the model loses nothing


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_examples_fail_both_validators(path):
    data = json.loads(path.read_text())
    assert not schema_accepts(data)
    assert check_record(data) is not None
    with pytest.raises(RecordError, match="not a valid result record"):
        read_result(path)


def _mutations(data, where=()):
    """Every record one edit away: a key removed, an unknown key added, a value retyped."""
    if isinstance(data, dict):
        yield (*where, "+unknown"), {**data, "zz_unknown": 1}
        for key, value in data.items():
            yield (*where, key, "-"), {k: v for k, v in data.items() if k != key}
            for path, changed in _mutations(value, (*where, key)):
                yield path, {**data, key: changed}
    for other in (None, True, -3, 2.5, "x", "", [], {}):
        if type(other) is not type(data) or other != data:
            yield (*where, repr(other)), other


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_fast_check_agrees_with_the_schema_on_every_one_edit_mutation(path):
    original = json.loads(path.read_text())
    disagreements, unexplained, tried = [], [], 0
    for where, mutated in _mutations(copy.deepcopy(original)):
        tried += 1
        accepted = schema_accepts(mutated)
        # the fast yes/no, the explaining walk and the schema: all three agree
        if not accepted == _fast_ok(mutated) == (_explain(mutated) is None):
            disagreements.append("/".join(map(str, where)))
        if not accepted and not check_record(mutated).startswith("$"):
            unexplained.append("/".join(map(str, where)))
    assert tried > 150
    assert disagreements == [] and unexplained == []


BEGIN, END = "-----BEGIN AGE ENCRYPTED FILE-----", "-----END AGE ENCRYPTED FILE-----"


@pytest.mark.parametrize(
    "text",
    [
        f"{BEGIN}\n{END}",
        f"{BEGIN}\r\n{END}\r\n",
        f"{BEGIN}\n{END} \t\n\x0b\x0c\u2003\x1c",
        f"{BEGIN}\nab\r\ncd\n{END}\n",
        f"{BEGIN}\n\n{END}",
        f"{BEGIN}\r{END}",
        f"{BEGIN}{END}",
        f"{BEGIN}\r\r\n{END}",
        f"{BEGIN}\nabc{END}x",
        f"{BEGIN}\n{END[:-1]}",
        f" {BEGIN}\n{END}",
        f"{BEGIN}\n",
    ],
)
def test_armor_check_without_regex_matches_the_schema_pattern(text):
    data = result_to_dict(result(private=None))
    data["private"] = text
    assert schema_accepts(data) == _fast_ok(data) == (_explain(data) is None)


def test_fast_check_message_names_the_json_path():
    data = json.loads((EXAMPLES / "valid" / "scored-sealed.json").read_text())
    data["scores"]["public"]["roc_auc"]["ci_low"] = "low"
    assert check_record(data) == "$.scores.public.roc_auc.ci_low: expected a number or null"


# ---------------------------------------------------------------- writing


def test_write_then_read_round_trips(tmp_path):
    record = result(ladder=LadderStats(0.25, 0.4, 300), team="red", user_id=42)
    path = write_result(tmp_path, record)
    assert path == tmp_path / "bc" / "alice" / "gbm" / f"{record.evaluation_id}.json"
    assert path == result_path(tmp_path, record)
    assert read_result(path) == record
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left


def test_an_existing_record_is_never_overwritten(tmp_path):
    record = result()
    path = write_result(tmp_path, record)
    before = path.read_bytes()
    changed = replace(record, scores={"public": scores(roc_auc=0.99, log_loss=0.1, accuracy=0.9)})
    with pytest.raises(RecordError) as caught:
        write_result(tmp_path, changed)
    assert caught.value.path == str(path)
    assert "records are never overwritten" in caught.value.message
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_concurrent_writers_of_one_id_cannot_clobber_each_other(tmp_path):
    base = result()
    versions = [
        replace(base, message=f"writer {i}", timings={"score": float(i)}) for i in range(12)
    ]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(versions))

    def write(record):
        barrier.wait()
        try:
            write_result(tmp_path, record)
            outcomes.append(record.message)
        except RecordError:
            outcomes.append("refused")

    threads = [threading.Thread(target=write, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and outcomes.count("refused") == 11
    assert read_result(result_path(tmp_path, base)).message == winners[0]


def test_write_refuses_non_finite_scores(tmp_path):
    record = result(scores={"public": {"roc_auc": Score(float("nan"))}})
    with pytest.raises(RecordError, match="non-finite number"):
        write_result(tmp_path, record)
    assert not (tmp_path / "bc").exists()


def test_write_refuses_a_participant_that_escapes_the_folder(tmp_path):
    with pytest.raises(
        RecordError, match=r"participant '\.\./mallory' cannot name a record folder"
    ):
        result_path(tmp_path, result(participant="../mallory"))
    with pytest.raises(RecordError, match=r"\$\.participant: '\.\./mallory' does not match"):
        write_result(tmp_path, result(participant="../mallory"))
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_clear_private_scores_beside_a_sealed_blob(tmp_path):
    sealed = json.loads((EXAMPLES / "valid" / "scored-sealed.json").read_text())["private"]
    record = result(
        private=sealed, scores={"public": scores(roc_auc=0.9), "private": scores(roc_auc=0.8)}
    )
    with pytest.raises(RecordError, match=r"\$\.private: .* is not of type 'null'"):
        write_result(tmp_path, record)


# ---------------------------------------------------------------- reading bad files


def test_unknown_schema_version_is_refused_with_the_versions_this_runner_reads(tmp_path):
    data = result_to_dict(result())
    data["schema_version"] = 2
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as caught:
        read_result(path)
    assert str(caught.value) == (
        f"{path}: schema_version 2 is not one this runner reads (it reads 1); "
        "upgrade challenge-runner to read this record"
    )


def test_truncated_record_names_the_file(tmp_path):
    path = write_result(tmp_path, result())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(RecordError) as caught:
        read_result(path)
    assert caught.value.path == str(path)
    assert caught.value.message.startswith("not valid JSON (")
    assert "the file is truncated or corrupt: restore it from git" in caught.value.message


def test_nan_in_a_record_file_is_not_json(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(result_to_dict(result())).replace("0.9,", "NaN,", 1))
    with pytest.raises(RecordError, match=r"not valid JSON \(NaN is not valid JSON\)"):
        read_result(path)


def test_a_number_beyond_float_range_is_a_bad_record_naming_the_field(tmp_path):
    # json reads 1e400 as inf: it passed every check, then crashed exports and the site.
    good = write_result(tmp_path, result(participant="alice"))
    bad = write_result(tmp_path, result(participant="bob"))
    bad.write_text(bad.read_text().replace('"value": 0.9,', '"value": 1e400,', 1))
    expected = (
        "not a valid result record: $.scores.public.roc_auc.value: 1e400 is not a finite "
        "number (beyond the range of a float); the file is corrupt: restore it from git or "
        "delete it and re-run the evaluation"
    )
    with pytest.raises(RecordError) as caught:
        read_result(bad)
    assert (caught.value.path, caught.value.message) == (str(bad), expected)
    loaded = load_results(tmp_path)
    assert [r.participant for r in loaded.results] == ["alice"]
    assert [(p.path, p.message) for p in loaded.problems] == [(str(bad), expected)]
    assert read_result(good).scores["public"]["roc_auc"].value == 0.9


def test_an_integer_beyond_float_range_is_a_bad_record(tmp_path):
    path = write_result(tmp_path, result())
    huge = "9" * 400
    path.write_text(path.read_text().replace('"value": 0.85,', f'"value": {huge},', 1))
    (problem,) = load_results(tmp_path).problems
    assert problem.message.startswith(
        f"not a valid result record: $.scores.public.accuracy.value: {huge[:40]} is not a "
        "finite number"
    )
    path.write_text(path.read_text().replace(huge, "-1e309"))
    with pytest.raises(RecordError, match=r"\$\.scores\.public\.accuracy\.value: -1e309 is not"):
        read_result(path)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_write_refuses_each_non_finite_value_naming_the_field(tmp_path, value):
    ladder = LadderStats(loss_mean=value, loss_sd=0.1, n=100)
    with pytest.raises(RecordError) as caught:
        write_result(tmp_path, result(ladder=ladder))
    assert caught.value.message == (
        f"refusing to write a record with a non-finite number: $.ladder.loss_mean is {value}; "
        "scores and statistics must be finite numbers"
    )
    huge = result(scores={"public": {"roc_auc": Score(0.9, 0.8, 10**400)}})
    with pytest.raises(RecordError, match=r"\$\.scores\.public\.roc_auc\.ci_high is 1000"):
        write_result(tmp_path, huge)
    assert list(tmp_path.iterdir()) == []


def test_load_results_reports_bad_files_and_keeps_going(tmp_path):
    good = [result(participant=p, submission=s) for p in ("alice", "bob") for s in ("a", "b")]
    paths = [write_result(tmp_path, r) for r in good]
    paths[1].write_bytes(paths[1].read_bytes()[:-40])  # truncated
    future = result_to_dict(good[2])
    future["schema_version"] = 9
    paths[2].write_text(json.dumps(future))
    (paths[0].parent / "notes.txt").write_text("not a record")  # ignored: not *.json
    loaded = load_results(tmp_path)
    assert [r.evaluation_id for r in loaded.results] == [
        good[0].evaluation_id,
        good[3].evaluation_id,
    ]
    assert [p.path for p in loaded.problems] == [str(paths[1]), str(paths[2])]
    assert "truncated or corrupt" in loaded.problems[0].message
    assert "schema_version 9 is not one this runner reads" in loaded.problems[1].message


def test_load_results_refuses_a_record_moved_to_another_folder(tmp_path):
    record = result(participant="alice")
    path = write_result(tmp_path, record)
    moved = tmp_path / "bc" / "mallory" / "gbm" / path.name
    moved.parent.mkdir(parents=True)
    path.rename(moved)
    loaded = load_results(tmp_path, "bc")
    assert loaded.results == ()
    (problem,) = loaded.problems
    assert problem.path == str(moved)
    assert problem.message.startswith(f"the record says bc/alice/gbm/{record.evaluation_id}.json")


def test_load_results_of_one_challenge_and_of_none(tmp_path):
    write_result(tmp_path, result(challenge="bc"))
    other = write_result(tmp_path, result(challenge="diabetes"))
    assert [r.challenge for r in load_results(tmp_path, "diabetes").results] == ["diabetes"]
    assert len(load_results(tmp_path).results) == 2
    assert load_results(tmp_path, "missing") == load_results(tmp_path / "nowhere")
    assert load_results(tmp_path / "nowhere").results == ()
    assert other.exists()


def test_result_from_dict_reports_an_impossible_date():
    data = result_to_dict(result())
    data["created_at"] = "2026-13-01T00:00:00Z"
    with pytest.raises(RecordError, match=r"\$\.created_at: month must be in 1\.\.12"):
        result_from_dict(data)


# ---------------------------------------------------------------- ids, cache keys, corrections


def test_evaluation_ids_sort_by_time_and_are_unique():
    early = new_evaluation_id(datetime(2026, 12, 1, 9, 5, 7, tzinfo=UTC))
    late = new_evaluation_id(datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC))
    assert re.fullmatch(r"20261201T090507Z-[0-9a-f]{8}", early)
    assert early < late
    same = {new_evaluation_id(datetime(2026, 12, 1, tzinfo=UTC)) for _ in range(200)}
    assert len(same) == 200
    with pytest.raises(ValueError, match="timezone-aware"):
        new_evaluation_id(datetime(2026, 12, 1))


def test_cache_key_is_a_sha256_of_all_inputs():
    key = cache_key(sha("c"), sha("d"), sha("p"), "0.1.0")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == cache_key(sha("c"), sha("d"), sha("p"), "0.1.0")
    changed = [
        cache_key(sha("C"), sha("d"), sha("p"), "0.1.0"),
        cache_key(sha("c"), sha("D"), sha("p"), "0.1.0"),
        cache_key(sha("c"), sha("d"), sha("P"), "0.1.0"),
        cache_key(sha("c"), sha("d"), sha("p"), "0.1.1"),
    ]
    assert len({key, *changed}) == 5


def test_find_cached_returns_the_latest_usable_record_with_the_key():
    key = sha("k")
    old = result(cache_key=key, created_at=utc("2026-12-02T00:00"))
    new = result(cache_key=key, created_at=utc("2026-12-03T00:00"), status="invalid")
    broken = result(cache_key=key, created_at=utc("2026-12-04T00:00"), status="error")
    other = result(cache_key=sha("other"), created_at=utc("2026-12-05T00:00"))
    assert find_cached([old, new, broken, other], key) == new
    assert find_cached([broken, other], key) is None
    assert find_cached([], key) is None


def test_current_results_hides_superseded_records():
    original = result()
    correction = result(supersedes=original.evaluation_id, created_at=original.created_at)
    unrelated = result()
    assert current_results([original, correction, unrelated]) == [correction, unrelated]
    assert find_cached([original, correction], original.cache_key) is None  # different keys
    same_key = replace(correction, cache_key=original.cache_key)
    assert find_cached([original, same_key], original.cache_key) == same_key


def test_an_oversized_file_is_not_read_as_a_record(tmp_path):
    record = result()
    path = write_result(tmp_path, record)
    path.write_bytes(path.read_bytes()[:-2] + b" " * (1 << 20) + b"}\n")
    (problem,) = load_results(tmp_path).problems
    assert problem.path == str(path)
    assert problem.message == (
        "larger than 1048576 bytes, so not a result record: move it out of the results folder"
    )
