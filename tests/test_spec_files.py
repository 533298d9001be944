"""A spec file is user code: whatever it does besides declaring a network (raise, sys.exit, print,
read input, recurse, loop for ever) is one line naming the problem and the file, exit status 2,
within the spec time limit — on the main thread (an alarm) and on any other (a trace function)."""

from __future__ import annotations

import threading
import time

import pytest

from codegen.cli import main
from derive import ChainruleError
from derive.catalogue import load_spec

SPECS = [
    ("import sys\nsys.exit(3)\n", "spec.py:2: the spec called sys.exit(3)"),
    ("import sys\nsys.exit()\n", "spec.py:2: the spec called sys.exit(None)"),
    ("raise RuntimeError('boom')\n", "spec.py:1: the spec raised RuntimeError: boom"),
    ("def build():\n    raise ValueError('bad')\n", "spec.py:2: the spec raised ValueError: bad"),
    ("print('hello')\n", "spec.py: the spec printed 'hello'"),
    ("import sys\nsys.stderr.write('note')\n", "spec.py: the spec printed 'note'"),
    ("x = input()\n", "spec.py:1: the spec raised EOFError"),
    ("def f():\n    return f()\nf()\n", "the spec raised RecursionError"),
    ("while True:\n    pass\n", "spec.py:1: the spec did not finish within 0.5 s"),
    ("import time\ntime.sleep(60)\n", "spec.py:2: the spec did not finish within 0.5 s"),
    ("x = 1\n", "spec.py: the spec defines no 'network'"),
    ("network = 3\n", "spec.py: the spec defines no 'network'"),
    ("raise SystemExit('multi\\nline')\n", "spec.py:1: the spec called sys.exit('multi\\nline')"),
    ("raise ValueError('multi\\nline')\n", "spec.py:1: the spec raised ValueError: multi line"),
    ("def (:\n", "spec.py:1: syntax error in the spec"),
]


@pytest.fixture(autouse=True)
def short_limit(monkeypatch):
    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "0.5")


@pytest.mark.parametrize(("body", "message"), SPECS)
def test_a_misbehaving_spec_is_one_line(tmp_path, monkeypatch, capsys, body, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.py").write_text(body, encoding="utf-8")
    start = time.monotonic()
    assert main(["derive", "spec.py", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("chainrule: error: ")
    assert message in err, err
    assert time.monotonic() - start < 5


def test_the_limit_holds_off_the_main_thread(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text("while True:\n    pass\n", encoding="utf-8")
    caught = []

    def load():
        try:
            load_spec(str(spec))
        except ChainruleError as exc:
            caught.append(str(exc))

    start = time.monotonic()
    worker = threading.Thread(target=load)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - start < 5
    assert caught and "did not finish within 0.5 s" in caught[0]
