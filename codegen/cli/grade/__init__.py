"""``chainrule grade``: a class's hand derivations, checked and graded in one run.

* ``questions``: the QUESTIONS file (TOML, one ``[[question]]`` table each), validated in full;
* ``submissions``: the SUBMISSIONS folder, one student per file (or per sub-folder), read defensively;
* ``checking``: one student's answer to one question, checked by ``derive.verify``, as plain data;
* ``pool``: the checks, run in forked worker processes with per-claim and whole-run time limits;
* ``reports``: ``grades.csv``, ``grades.json``, ``feedback/STUDENT.md`` and the summary table;
* ``gradescope``: the autograder bundle (``--export gradescope``) and its ``results.json``.
"""
