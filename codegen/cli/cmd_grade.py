"""``chainrule grade``: grade a class's hand derivations in one run.

    chainrule grade QUESTIONS SUBMISSIONS_DIR -o REPORT_DIR
    chainrule grade QUESTIONS --export gradescope -o autograder.zip

QUESTIONS is a TOML file (``codegen.cli.grade.questions``); SUBMISSIONS_DIR holds one file per student
(``codegen.cli.grade.submissions``).  REPORT_DIR gets ``grades.csv``, ``grades.json`` and
``feedback/STUDENT.md``; a summary table goes to stdout.  Exit status 0 whenever a report was written,
2 for bad QUESTIONS or a bad folder (one line).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from derive import ChainruleError

from ..emit.files import make_folder, write_all_atomic, write_atomic
from .grade import gradescope, pool, reports
from .grade.grading import RUN_SECONDS, grade, prepare
from .grade.questions import read_questions
from .grade.submissions import read_folder, read_one
from .report import status

REPORT_FILES = ("grades.csv", "grades.json")


def register(sub) -> None:
    p = sub.add_parser("grade", help="grade a class's hand derivations: grades.csv, feedback per student")
    p.add_argument("questions", metavar="QUESTIONS", help="a TOML file with one [[question]] table per question")
    p.add_argument(
        "submissions",
        metavar="SUBMISSIONS_DIR",
        nargs="?",
        help="one .txt, .md or .tex file per student (lines 'q1: …'); not with --export",
    )
    p.add_argument(
        "-o", "--output", metavar="PATH", help="the report folder (or, with --export, the bundle's .zip file)"
    )
    p.add_argument(
        "--export",
        choices=("gradescope",),
        help="write a course platform's autograder bundle instead of grading (-o autograder.zip)",
    )
    p.add_argument(
        "--gradescope-results",
        metavar="FILE",
        help="grade SUBMISSIONS_DIR as one student's upload and write Gradescope's results.json (the bundle's run_autograder)",
    )
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: the CPUs available)")
    p.add_argument(
        "--time-limit",
        type=float,
        default=RUN_SECONDS,
        metavar="SECONDS",
        help=f"for the whole run (default {RUN_SECONDS:g}); what is left is graded 'unreadable'",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ChainruleError("--jobs must be at least 1")
    if not args.time_limit > 0:
        raise ChainruleError("--time-limit must be a positive number of seconds")
    questions = read_questions(args.questions)
    if args.export:
        if args.submissions or args.gradescope_results:
            raise ChainruleError("--export takes QUESTIONS and -o only")
        if not args.output:
            raise ChainruleError("--export needs -o, the bundle to write (e.g. -o autograder.zip)")
        gradescope.check_bundle_path(args.output)
        prepare(questions)  # every network and gradient checked before anything is bundled
        gradescope.export(questions, args.output)
        status(f"wrote the Gradescope autograder bundle {args.output} ({len(questions.questions)} questions)")
        return 0
    if not args.submissions:
        raise ChainruleError("give SUBMISSIONS_DIR, the folder of submissions (or --export gradescope)")
    if not args.output and not args.gradescope_results:
        raise ChainruleError("give -o REPORT_DIR, the folder for grades.csv, grades.json and feedback/")
    if args.output:
        check_report_folder(args.output)
    ids = [q.id for q in questions.questions]
    if args.gradescope_results:
        submissions = [read_one(args.submissions, ids)]
    else:
        submissions = read_folder(args.submissions, ids)
    start = time.monotonic()
    prepared = prepare(questions)  # the last place bad input can show: no status line before it
    jobs = args.jobs or pool.default_jobs()
    networks = len({q.source for q in questions.questions})
    status(f"grade: {networks} network(s) derived; checking {len(submissions)} submission(s) with {jobs} worker(s)")
    grades = grade(
        prepared,
        submissions,
        jobs=jobs,
        total_seconds=args.time_limit,
        progress=lambda done, total: status(f"grade: {done} of {total} distinct answers checked"),
    )
    if args.gradescope_results:
        gradescope.write_results(args.gradescope_results, questions, submissions[0], grades)
    if args.output:
        write_report(args.output, questions, submissions, grades)
    sys.stdout.write(reports.summary_text(questions, grades))
    where = " and ".join(x for x in (args.output and f"{args.output}/", args.gradescope_results) if x)
    status(
        f"graded {len(submissions)} submission(s) on {len(ids)} question(s) in {time.monotonic() - start:.1f} s; wrote {where}"
    )
    return 0


def check_report_folder(folder: str) -> None:
    """A report folder is new, empty of report files, or an earlier report of ``chainrule grade``."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ChainruleError("the report folder is a file, not a folder", folder)
    found = [f for f in (*REPORT_FILES, "feedback") if os.path.exists(os.path.join(folder, f))]
    if found and previous_students(folder) is None:
        raise ChainruleError(
            f"refusing to overwrite {found[0]}: the folder holds files that are not a chainrule grade report", folder
        )


def previous_students(folder: str) -> list[str] | None:
    """The students of the report already in ``folder`` (None when there is none of chainrule's)."""
    try:
        with open(os.path.join(folder, "grades.json"), encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("generator") != "chainrule grade":
            return None
        return [s["student"] for s in data["students"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_report(folder: str, questions, submissions, grades) -> None:
    """grades.csv, grades.json and feedback/STUDENT.md, written as one step; the feedback of students
    no longer in the class (from an earlier report here) removed."""
    make_folder(folder)
    old = previous_students(folder) or []
    per_student: dict[str, list] = {}
    for g in grades:
        per_student.setdefault(g.student, []).append(g)
    files = [
        (os.path.join(folder, "feedback", f"{s.student}.md"), reports.feedback_md(questions, s, per_student[s.student]))
        for s in submissions
    ]
    files += [
        (os.path.join(folder, "grades.json"), reports.grades_json(questions, submissions, grades)),
        (os.path.join(folder, "grades.csv"), reports.grades_csv(grades)),
    ]
    write_all_atomic(files)
    current = {s.student for s in submissions}
    for student in old:
        stale = os.path.join(folder, "feedback", f"{student}.md")
        if student not in current and os.path.isfile(stale):
            os.unlink(stale)


# ------------------------------------------------------------------ the demo class
DEMO_CLASS = "demo_class"  # codegen/sheets/demo_class/: questions.toml and submissions/, shipped as package data
GOLDEN_DIR = Path("docs") / "demo_class"


def _demo_files() -> list[tuple[str, bytes]]:
    """(path relative to the class folder, bytes) of the shipped demo class, sorted."""
    from .cmd_verify import SHEETS

    root = SHEETS / DEMO_CLASS
    out = [("questions.toml", (root / "questions.toml").read_bytes())]
    for entry in sorted((root / "submissions").iterdir(), key=lambda e: e.name):
        out.append((f"submissions/{entry.name}", entry.read_bytes()))
    return out


def grade_demo_class(folder: Path, report: Path, jobs: int | None = None):
    """The demo class copied to ``folder`` and graded into ``report``: the paths written."""
    written = []
    for rel, data in _demo_files():
        write_atomic(str(folder / rel), data)
        written.append(folder / rel)
    questions = read_questions(str(folder / "questions.toml"))
    submissions = read_folder(str(folder / "submissions"), [q.id for q in questions.questions])
    grades = grade(prepare(questions), submissions, jobs=jobs or pool.default_jobs())
    write_report(str(report), questions, submissions, grades)
    written += [report / name for name in REPORT_FILES]
    written += [report / "feedback" / f"{s.student}.md" for s in submissions]
    return written, questions, grades


def regenerate(root: Path) -> list[Path]:
    """``docs/demo_class/``: the demo class (questions.toml, submissions/) and its report (grades.csv,
    grades.json, feedback/), the golden files of ``chainrule grade``."""
    folder = Path(root) / GOLDEN_DIR
    written, _, _ = grade_demo_class(folder, folder)
    return written


def demo(out_dir: str) -> bool:
    """Grade the demo class (12 made-up students, 4 questions) into OUT/grade/: the summary on stdout."""
    status("demo: grading the demo class (12 students, 4 questions: text, LaTeX, steps, one unreadable file)")
    folder = Path(out_dir) / "grade"
    written, questions, grades = grade_demo_class(folder, folder / "report")
    sys.stdout.write(reports.summary_text(questions, grades))
    ok = len(grades) == len({g.student for g in grades}) * len(questions.questions) and bool(written)
    status(f"wrote the demo class and its report to {folder}/ (grades.csv, grades.json, feedback/)")
    return ok
