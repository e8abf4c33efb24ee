"""Result records: one immutable JSON file per evaluation (DESIGN §2).

Layout: ``results/<challenge>/<participant>/<submission>/<evaluation_id>.json``. The JSON
Schema ``runner/schemas/result.schema.json`` is the contract for the files; ``Result`` is the
contract for code.

Two validators, one contract: ``read_result`` and ``write_result`` run the full JSON Schema;
``load_results`` (the bulk path: 100,000 files in seconds) runs ``check_record``, the same
rules written out in code (``runner.records.check``), because jsonschema costs more than
reading the file. A test proves both accept and refuse the same records.

Records are never overwritten: ``write_result`` writes a temporary file in the target folder,
then hard-links it to its final name, which fails if the name exists (atomic and race-free, so
a concurrent writer cannot clobber a record). A correction is a new record whose
``supersedes`` names the old one; ``current_results`` drops superseded records.
"""

from runner.records.check import SCHEMA_VERSIONS, check_record
from runner.records.codec import (
    format_time,
    result_from_dict,
    result_to_dict,
    scores_from_dict,
    scores_to_dict,
)
from runner.records.store import (
    LoadedResults,
    cache_key,
    current_results,
    find_cached,
    load_results,
    new_evaluation_id,
    read_result,
    result_path,
    write_result,
)

__all__ = [
    "SCHEMA_VERSIONS",
    "LoadedResults",
    "cache_key",
    "check_record",
    "current_results",
    "find_cached",
    "format_time",
    "load_results",
    "new_evaluation_id",
    "read_result",
    "result_from_dict",
    "result_path",
    "result_to_dict",
    "scores_from_dict",
    "scores_to_dict",
    "write_result",
]
