"""The user guide builds and its links hold: `mkdocs build --strict` (mkdocs.yml: a link to a missing page,
file or anchor, or a page left out of the navigation, is a warning, and --strict fails on it), and the
README's own links and pictures point at files of the repository.  The code blocks of both are run by
tests/test_readme.py."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PNG = b"\x89PNG\r\n\x1a\n"


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = build(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def test_the_guide_builds_with_every_page(site):
    pages = sorted(p.stem for p in (ROOT / "docs").glob("*.md"))
    assert {"index", "declaration", "cli", "handouts", "verify", "modules", "conventions", "benchmarks"} <= set(pages)
    for page in pages:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), page
    # the pages' anchors and links were checked by --strict; the guide's pages reach each other
    assert 'href="../verify/#grading-a-class-chainrule-grade"' in (site / "cli" / "index.html").read_text("utf-8")


def test_strict_catches_a_broken_link_and_anchor(tmp_path):
    """What the build above relies on: a link to a page or an anchor that does not exist fails it."""
    for broken in ("[gone](nowhere.md)", "[gone](cli.md#no-such-section)"):
        docs = tmp_path / broken.split("(")[1].split(".")[0] / "docs"
        docs.mkdir(parents=True)
        (docs / "index.md").write_text(f"# Guide\n\nSee {broken}.\n", encoding="utf-8")
        (docs / "cli.md").write_text("# CLI\n\n## Commands\n", encoding="utf-8")
        config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        config = re.sub(r"(?ms)^nav:.*?(?=^\S)", "nav:\n  - index.md\n  - cli.md\n", config)
        (docs.parent / "mkdocs.yml").write_text(config, encoding="utf-8")
        done = build(docs.parent / "mkdocs.yml", docs.parent / "site")
        assert done.returncode != 0 and "WARNING" in done.stderr, broken


def relative_links(text: str) -> list[str]:
    out = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        out.append(target.split("#")[0])
    return out


def test_the_readme_links_point_at_files():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = relative_links(text)
    assert len(links) >= 12
    for target in links:
        assert (ROOT / target).exists(), target
    # the guide's pages it names are the guide's pages
    named = {Path(t).name for t in links if t.startswith("docs/") and t.endswith(".md")}
    assert named == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_the_readme_shows_three_pictures():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", text)
    assert [Path(p).name for _, p in pictures] == ["handout.png", "html.png", "verify.png"]
    for alt, path in pictures:
        data = (ROOT / path).read_bytes()
        assert alt and data.startswith(PNG) and 10_000 < len(data) < 300_000, path


def test_the_readme_starts_with_the_two_commands():
    """The set-up commands come first (CI runs the second), before the pictures and the tours."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)```", text, re.DOTALL).group(1).splitlines()
    assert first[0].startswith("bash scripts/setup.sh && .venv/bin/chainrule demo -o chainrule-demo")
    assert first[1].startswith("bash scripts/setup.sh && .venv/bin/python -m pytest ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh" in ci and ".venv/bin/python -m pytest" in ci
    order = [
        text.index(s)
        for s in ("```sh", "chainrule-demo/index.html", "![", "as an instructor", "as a student", "as an engineer")
    ]
    assert order == sorted(order)


def test_mkdocs_is_in_the_test_extras():
    """CI installs the test extras (scripts/setup.sh: pip install -e '.[test]'), so the build above runs there."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(dep.startswith("mkdocs") for dep in extras["test"])
    assert ".[test]" in (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert shutil.which("mkdocs", path=str(Path(sys.executable).parent))
