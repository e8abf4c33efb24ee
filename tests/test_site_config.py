"""mkdocs.yml cannot make the site build run code: hooks, unknown plugins or Markdown
extensions and ``!!python`` tags are refused before MkDocs reads the file, and the challenge
workflow builds a pull request's site with the base branch's mkdocs.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from site_repo import make_repo

from runner.site import SiteError, build_site
from runner.site.config import check_config

ROOT = Path(__file__).resolve().parents[1]
HOOK = "from pathlib import Path\nPath({marker!r}).write_text('ran')\n"


def _with_config(tmp_path: Path, extra: str) -> Path:
    root = make_repo(tmp_path / "repo")
    config = root / "mkdocs.yml"
    config.write_text(config.read_text() + extra)
    return root


def test_a_hook_in_mkdocs_yml_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    root = _with_config(tmp_path, "hooks:\n  - evil.py\n")
    (root / "evil.py").write_text(HOOK.format(marker=str(marker)))
    with pytest.raises(SiteError) as caught:
        build_site(root, root / "public")
    assert caught.value.message == (
        "mkdocs.yml asks MkDocs to run code, which the site build refuses:\n"
        "  - hooks: runs Python files; remove it"
    )
    assert caught.value.path == str(root / "mkdocs.yml")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("INHERIT: other.yml\n", "INHERIT: reads another config; remove it"),
        ("plugins:\n  - search\n  - macros\n",
         "plugins: 'macros' is not one of ['challenge-runner', 'offline', 'search', 'tags']; "
         "remove it"),
        ("markdown_extensions:\n  - evil_module\n",
         "markdown_extensions: 'evil_module' is not a Python-Markdown or pymdownx extension"),
        ("x: !!python/name:os.system\n", "a !!python/ tag imports code; remove it"),
    ],
)  # fmt: skip
def test_code_running_keys_are_refused(tmp_path: Path, extra: str, problem: str) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        (ROOT / "mkdocs.yml").read_text().replace("plugins:\n", "plugins_:\n") + extra
    )
    assert check_config(config) == [problem]


def test_the_projects_config_passes() -> None:
    assert check_config(ROOT / "mkdocs.yml") == []
    config = (
        "plugins: {search: {}, material/tags: {}}\nmarkdown_extensions:\n  - pymdownx.details\n"
    )
    assert yaml.safe_load(config)  # the mapping forms MkDocs also accepts


def test_unreadable_yaml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\n- a list\n")
    assert check_config(config) == [
        "not readable as YAML (line 2): expected <block end>, but found '-'"
    ]


def test_mapping_forms_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: x\nplugins: {search: {}, material/tags: {}, evil: {}}\n"
        "markdown_extensions:\n  - pymdownx.details\n  - markdown.extensions.toc: {}\n"
    )
    assert check_config(config) == [
        "plugins: 'evil' is not one of ['challenge-runner', 'offline', 'search', 'tags']; remove it"
    ]


def test_the_challenge_workflow_builds_with_the_base_branchs_config() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/challenge.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    [build] = [s for s in steps if "site build" in s.get("run", "")]
    lines = [line.strip() for line in build["run"].splitlines() if line.strip()]
    assert lines == [
        "cp ../runner-base/mkdocs.yml mkdocs.yml",
        "challenge-runner site build --root . --output public",
    ]
    install = [s for s in steps if "runner-base" in s.get("run", "") and s is not build]
    assert install and steps.index(install[0]) < steps.index(build)  # the base worktree exists
