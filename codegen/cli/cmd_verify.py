"""``chainrule verify``: check hand-derived formulas against the derivation.

    chainrule verify SPEC --wrt NAME --claim TEXT     one text claim (Python/SymPy syntax)
    chainrule verify SPEC --wrt NAME --latex TEX      one claim as the lectures write it
    chainrule verify SPEC --claims FILE               a sheet: one ``NAME: formula`` per line
    chainrule verify SPEC --steps FILE [--wrt NAME]   a chain of equalities, one step per line
    chainrule verify adam --claim "m_t = …"           an optimiser's update rule (sgd, momentum, adagrad,
                                                      rmsprop, adam), as the module computes it

Exit status 0 when every claim holds, 1 when one is wrong (or a sheet line cannot be read: it is
one row of the table, verdict "unreadable"), 2 on bad input (a sheet: when no line can be read).
"""

from __future__ import annotations

import copy
import os
import re
import sys
import time
from dataclasses import dataclass
from importlib import resources

from derive import ChainruleError
from derive.catalogue import load_spec
from derive.names import did_you_mean
from derive.verify.scalar import verify_spec

from . import jsonout
from .report import status
from .textfiles import read_text

MAX_SHEET_BYTES = 10_000_000
SHEET_SECONDS = 600.0  # a whole sheet (--claims, --steps), wall clock; each claim also has its own CPU limit
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:(?!=)\s*(.*)$")


def register(sub) -> None:
    p = sub.add_parser("verify", help="check hand-derived gradient formulas (text or LaTeX)")
    p.add_argument(
        "spec",
        metavar="SPEC",
        help="catalogue name, a Python file that defines `network`, or an optimiser (adam, rmsprop, …): its update rule",
    )
    p.add_argument(
        "--wrt", metavar="NAME", help="the variable the claim is the gradient for (an optimiser: what it defines, m_t)"
    )
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--claim", metavar="TEXT", help="a formula in Python/SymPy syntax, e.g. '(yhat - y)*w1*a1*(1 - a1)*x1'"
    )
    group.add_argument("--latex", metavar="TEX", help=r"a formula in LaTeX, e.g. '(\hat{y}-y) w_1 a_1 (1-a_1) x_1'")
    group.add_argument(
        "--claims",
        metavar="FILE",
        help="a file of claims, one 'NAME: formula' per line (text, or $…$ LaTeX), or a sheet that ships with "
        f"chainrule, by name: {', '.join(shipped_sheets())}",
    )
    p.add_argument("--json", action="store_true", help="as JSON (keys: see docs/cli.md); the exit status is the same")
    group.add_argument(
        "--code",
        metavar="FILE.py",
        help="a conv or pooling layer as the courses write it (cs231n's conv_backward_naive, max_pool_backward_naive …):"
        " each function is run at small layers and checked, the classic slips named",
    )
    group.add_argument(
        "--steps",
        metavar="FILE",
        help="a derivation, one equality per line (text or $…$ LaTeX; '= …' continues the line before): "
        "the first step that does not follow is reported",
    )
    p.add_argument(
        "--notation",
        metavar="NAME",
        help="an optimiser's notation: Adam's 'kingma' (m, v; the default) or 'd2l' (v the first moment, s the "
        "second); chosen from the names the claim uses when not given",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=SHEET_SECONDS,
        metavar="SECONDS",
        help=f"for a whole sheet (--claims, --steps; default {SHEET_SECONDS:g}); each claim has 5 s of its own",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    if not args.time_limit > 0:
        raise ChainruleError("--time-limit must be a positive number of seconds")
    target = load_target(args.spec, getattr(args, "notation", None))
    if args.code:
        return run_code(target, args.code, as_json=args.json, spec=args.spec)
    if args.claims:
        return run_sheet(target, args.claims, as_json=args.json, seconds=args.time_limit)
    if args.steps:
        return run_steps(target, args.steps, args.wrt, as_json=args.json, seconds=args.time_limit)
    if args.claim is not None:
        claim, latex = args.claim, False
    else:
        claim, latex = args.latex, True
    verdict = verify_spec(target, args.wrt, claim, latex=latex, where="--latex" if latex else "--claim")
    if args.json:
        jsonout.dump(jsonout.verdict(verdict))
    else:
        print(verdict.report())
    return 0 if verdict.equal else 1


def run_code(target, path: str, as_json: bool = False, spec: str = "the network") -> int:
    """The functions of a conv or pooling layer in FILE.py, each quantity they return checked (``derive.verify.conv``)."""
    from derive.verify.conv import verify_code

    if not hasattr(target, "pooling"):
        raise ChainruleError(f"'{spec}' has no convolution: --code checks conv and pooling layers", path)
    if not os.path.isfile(path):
        raise ChainruleError(f"no such file '{path}'")
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainruleError(f"cannot read the code ({exc})", path) from None
    verdicts = verify_code(source, path)
    if as_json:
        jsonout.dump({"file": path, "verdicts": [jsonout.verdict(v) for v in verdicts]})
    else:
        for v in verdicts:
            print(v.report())
        held = sum(v.equal for v in verdicts)
        print(f"\n{held} of {len(verdicts)} results hold")
    return 0 if all(v.equal for v in verdicts) else 1


def load_target(spec: str, notation: str | None = None):
    """The network of SPEC, derived, with its other view (``derive.verify.scalar.SpecTarget``): a per-unit
    network also as its batch equations (when it is a stack of dense layers, as the handout's
    section 4 writes it), a network declared in matrices also written out unit by unit (as the
    handout's sections 1-3 and 5 write it).  An optimiser's name (``adam``): its update rule
    (``derive.verify.optimiser``), in ``notation`` when given."""
    from derive.verify.optimiser import OptimiserTarget
    from derive.verify.optimiser_rules import RULES
    from derive.verify.scalar import SpecTarget
    from derive.verify.vec_target import VecTarget

    from ..handout.batch import Layers, scalar_network, vec_network

    if spec in RULES and not os.path.exists(spec):
        return OptimiserTarget(spec, notation)
    if notation is not None:
        raise ChainruleError(f"--notation is for an optimiser's update rule ({', '.join(RULES)}), not '{spec}'")
    try:
        net = load_spec(spec)
    except ChainruleError as exc:
        hint = did_you_mean(spec, list(RULES)) if exc.message.startswith("unknown network") else ""
        if hint:
            raise ChainruleError(f"unknown network or optimiser '{spec}'{hint}") from None
        raise
    if getattr(net, "filter_banks", None):  # convolutions: the courses' conv notation, else the matrix view
        from derive.verify.conv import ConvTarget

        return ConvTarget(net)
    if getattr(net, "recurrence", None) is not None:  # one step, backpropagated through time: claims at a step t
        from derive.verify.recurrent import RecTarget

        return RecTarget(net)
    if hasattr(net, "assignments"):
        from derive.verify.pairs import PairTarget, reads_pairs

        if reads_pairs(net):  # word pairs (word2vec): claims about one pair in the course's notation
            return PairTarget(net)
    if hasattr(net, "assignments"):  # a VecNetwork: vectorised claims, or per unit
        return SpecTarget(VecTarget(net), lambda: _derived(scalar_network(net)[0]))
    layers = Layers.of(net)
    derivation = net.derive()
    if layers:  # entry (j, i) of the batch W^{[l]}, as section 4 of a handout names it
        derivation = copy.copy(derivation)  # a derivation shared by others (derive.catalogue.shared) stays as it was
        derivation.entries = {}
        for number, layer in enumerate(layers.layers, start=1):
            for p, (j, i) in layer.weights.items():
                derivation.entries[("W", str(number), str(j + 1), str(i + 1))] = p
            for p, j in layer.biases.items():
                derivation.entries[("b", str(number), str(j + 1))] = p
    return SpecTarget(derivation, (lambda: VecTarget(vec_network(net, layers))) if layers else None)


def _derived(net):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return net.derive()


@dataclass(frozen=True)
class Unreadable:
    """A sheet line that could not be read: one row of the table, verdict "unreadable"."""

    target: str
    claim: str
    reason: str
    equal: bool = False
    symbolic: str = ""
    numeric: str = ""
    hint: str | None = None

    def report(self) -> str:
        return f"{self.target}: unreadable\n  claim:    {self.claim}\n  reason:   {self.reason}"


def shipped_sheets() -> list[str]:
    """The example sheets that ship with chainrule, by name (``mistakes``, ``two_layer_sigmoid``, …)."""
    return sorted(entry.name.removesuffix(".txt") for entry in SHEETS.iterdir() if entry.name.endswith(".txt"))


def read_sheet(path: str, named: bool = True) -> list[tuple[int, str | None, str]]:
    """(line number, name or None, formula) for each claim line; '#' comments and blank lines skipped.
    A line with a name and no formula has the formula ''.  ``path`` is a file, or the name of a sheet that
    ships with chainrule (``mistakes``, ``mistakes.txt``) when no such file is here."""
    what = "claims file" if named else "steps file"
    shipped = path.removesuffix(".txt")
    if not os.path.exists(path) and shipped in shipped_sheets() and os.sep not in path and "/" not in path:
        text, problem = (SHEETS / f"{shipped}.txt").read_text(encoding="utf-8"), None
    else:
        text, problem = read_text(path, MAX_SHEET_BYTES)
    if problem == "no such file":
        sheets = shipped_sheets()
        hint = did_you_mean(shipped, sheets)
        raise ChainruleError(f"no such {what} '{path}'{hint} (or a shipped sheet: {', '.join(sheets)})")
    if problem:
        raise ChainruleError(f"cannot read the {what}: {problem}", path)
    lines = text.splitlines()
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line) if named else None
        name, formula = (m.group(1), m.group(2).strip()) if m else (None, line.strip())
        out.append((number, name, formula))
    if not out:
        raise ChainruleError("no claims in the file", path)
    return out


def check_line(target, path: str, number: int, name: str | None, formula: str):
    """The Verdict of one sheet line, or ``Unreadable`` with the reason."""
    if not formula:
        return Unreadable(name or "?", "", f"no formula after '{name}:'")
    latex = formula.startswith("$")
    claim = formula.strip("$") if latex else formula
    try:
        return verify_spec(target, name, claim, latex=latex, where=f"{path}:{number}")
    except ChainruleError as exc:
        return Unreadable(name or "?", formula, exc.message)


def check_sheet(target, path: str, seconds: float = SHEET_SECONDS):
    """[(line, Verdict or Unreadable)] for every claim of a sheet, within ``seconds`` (what is left then is
    "unreadable": not checked); a claim repeated on several lines is checked once.  When no line at all
    can be read, the first line's problem is raised (bad input, exit status 2)."""
    rows, seen = [], {}
    end = time.monotonic() + seconds
    for number, name, formula in read_sheet(path):
        if (name, formula) not in seen:
            if seen and time.monotonic() > end:  # the first line is always checked
                late = f"not checked: the sheet's time limit ({seconds:g} s) was reached"
                rows.append((number, Unreadable(name or "?", formula, late)))
                continue
            seen[name, formula] = check_line(target, path, number, name, formula)
        rows.append((number, seen[name, formula]))
    if all(isinstance(v, Unreadable) for _, v in rows):
        number, first = rows[0]
        raise ChainruleError(first.reason, f"{path}:{number}")
    return rows


def verdict_word(v) -> str:
    if isinstance(v, Unreadable):
        return "unreadable"
    return "holds" if v.equal else "WRONG"


def sheet_text(rows, path: str, what: str = "claims") -> str:
    """The table, one row per line, then the report of each wrong or unreadable line and a count."""
    header = ("line", "claim", "verdict", "symbolic", "numeric", "likely slip")
    table = [header] + [
        (
            str(n),
            v.target,
            verdict_word(v),
            v.symbolic.split(" (")[0],
            v.numeric,
            (v.reason if isinstance(v, Unreadable) else v.hint) or "",
        )
        for n, v in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    wrong = [(n, v) for n, v in rows if not v.equal]
    for n, v in wrong:
        lines.append(f"\n{path}:{n}: {v.report()}")
    unreadable = sum(isinstance(v, Unreadable) for _, v in rows)
    extra = f" ({unreadable} unreadable)" if unreadable else ""
    lines.append(f"\n{len(rows) - len(wrong)} of {len(rows)} {what} hold{extra}")
    return "\n".join(lines) + "\n"


def run_sheet(target, path: str, as_json: bool = False, seconds: float = SHEET_SECONDS) -> int:
    rows = check_sheet(target, path, seconds)
    if as_json:
        jsonout.dump(jsonout.sheet(path, rows))
    else:
        sys.stdout.write(sheet_text(rows, path))
    return 1 if any(not v.equal for _, v in rows) else 0


# ------------------------------------------------------------------ steps
def check_steps(target, path: str, wrt: str | None = None, seconds: float = SHEET_SECONDS):
    """[(line, Verdict or Unreadable, follows)] for a chain of equalities.

    Each line is an equality (``dz/da1 = w1``, ``$\\frac{\\partial L}{\\partial W_{11}} = …$``), an
    expression for ``--wrt``, or ``= …``, which continues the last left-hand side.  Every line is
    checked against the network; a continued line also against the line before it (``follows``:
    True, False, or None when that cannot be said)."""
    lines = [(number, formula) for number, _, formula in read_sheet(path, named=False)]
    rows = chain_rows(target, lines, path, wrt, seconds)
    if all(isinstance(v, Unreadable) for _, v, _ in rows):
        number, first, _ = rows[0]
        raise ChainruleError(first.reason, f"{path}:{number}")
    return rows


def chain_rows(target, lines, path: str | None = None, wrt: str | None = None, seconds: float = SHEET_SECONDS):
    """``check_steps`` for lines already read: [(line number, formula)] → [(line, Verdict or Unreadable,
    follows)]; a line that cannot be read is a row, never an error; after ``seconds``, no line is checked."""
    rows, lhs, previous = [], None, None
    end = time.monotonic() + seconds
    for number, formula in lines:
        if rows and time.monotonic() > end:  # the first line is always checked
            late = f"not checked: the time limit ({seconds:g} s) was reached"
            rows.append((number, Unreadable(wrt or "?", formula, late), None))
            continue
        latex = formula.startswith("$")
        text = formula.strip("$").strip() if latex else formula
        latex = latex or "\\" in text
        continued = text.startswith("=")
        if continued:
            rhs = text[1:].strip()
            if lhs is not None:
                text = f"{lhs} = {rhs}"
            elif wrt is not None and previous is not None:
                text = rhs
            else:
                reason = "'= …' continues nothing: no line before it has a left-hand side"
                rows.append((number, Unreadable(wrt or "?", formula, reason), None))
                continue
        else:
            parts = _split_equality(text)
            lhs, rhs = parts if parts else (None, text)
        follows = None
        where = f"{path}:{number}" if path else None
        try:
            verdict = verify_spec(target, wrt if lhs is None else None, text, latex=latex, where=where)
        except ChainruleError as exc:
            rows.append((number, Unreadable(wrt or "?", formula, exc.message), None))
            previous = None
            continue
        if continued and previous is not None:
            follows = _follows(target, previous, rhs, latex, where)
        rows.append((number, verdict, follows))
        previous = (rhs, latex)
    return rows


def _split_equality(text: str):
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "=" and depth == 0 and text[i - 1 : i] not in ("<", ">", "!", ":") and text[i + 1 : i + 2] != "=":
            return text[:i].strip(), text[i + 1 :].strip()
    return None


def _follows(target, previous, rhs: str, latex: bool, where: str):
    """Whether ``rhs`` equals the previous line's right-hand side as an identity (None: cannot say)."""
    before, before_latex = previous
    if before_latex != latex:
        return None
    try:
        return verify_spec(
            target,
            None,
            f"({before}) = ({rhs})" if not latex else f"\\left({before}\\right) = {rhs}",
            latex=latex,
            where=where,
        ).equal
    except ChainruleError:
        return None


def steps_text(rows, path: str) -> str:
    """The table of ``sheet_text`` with a column 'follows', then the first step that does not follow."""
    header = ("line", "step", "verdict", "follows", "numeric", "likely slip")
    table = [header] + [
        (
            str(n),
            v.target,
            verdict_word(v),
            {True: "yes", False: "no", None: ""}[follows],
            v.numeric,
            (v.reason if isinstance(v, Unreadable) else v.hint) or "",
        )
        for n, v, follows in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    first = next(((n, v) for n, v, _ in rows if not v.equal), None)
    if first is None:
        lines.append(f"\nevery step holds ({len(rows)} lines)")
    else:
        n, v = first
        kind = "cannot be read" if isinstance(v, Unreadable) else "does not follow from the network or the line before"
        lines.append(f"\nfirst step that {kind}: line {n}")
        lines.append(f"{path}:{n}: {v.report()}")
        held = sum(v.equal for _, v, _ in rows)
        lines.append(f"\n{held} of {len(rows)} steps hold")
    return "\n".join(lines) + "\n"


def run_steps(target, path: str, wrt: str | None = None, as_json: bool = False, seconds: float = SHEET_SECONDS) -> int:
    rows = check_steps(target, path, wrt, seconds)
    if as_json:
        jsonout.dump(jsonout.steps(path, rows))
    else:
        sys.stdout.write(steps_text(rows, path))
    return 1 if any(not v.equal for _, v, _ in rows) else 0


SHEETS = resources.files("codegen") / "sheets"  # the example sheets, shipped as package data
# sheet -> (network, every claim holds?)
DEMO_SHEETS = {
    "two_layer_sigmoid.txt": ("two_layer_sigmoid", True),
    "one_hidden_layer.txt": ("one_hidden_layer", True),
    "mistakes.txt": ("two_layer_sigmoid", False),
    "mistakes_vectorised.txt": ("one_hidden_layer", False),
}


def demo(out_dir: str) -> bool:
    """Check the example sheets (copied to OUT/verify/sheets/): the lecture's formulas hold; every typical
    mistake is caught with a hint.  The tables go to OUT/verify/SHEET."""
    from codegen.emit.files import write_atomic

    ok = True
    status(f"demo: checking {len(DEMO_SHEETS)} example claim sheets")
    print(f"{'sheet':<26} {'claims':>6} {'hold':>5} {'hinted':>7}  expected")
    for sheet, (network, all_hold) in DEMO_SHEETS.items():
        path = os.path.join(out_dir, "verify", "sheets", sheet)
        write_atomic(path, (SHEETS / sheet).read_bytes())
        rows = check_sheet(load_target(network), path)
        holds = sum(v.equal for _, v in rows)
        hinted = sum(bool(v.hint) for _, v in rows if not v.equal)
        good = holds == len(rows) if all_hold else (holds == 0 and hinted == len(rows))
        ok = ok and good
        write_atomic(os.path.join(out_dir, "verify", sheet), sheet_text(rows, f"sheets/{sheet}"))
        expected = "all hold" if all_hold else "all wrong, each with a hint"
        print(f"{sheet:<26} {len(rows):>6} {holds:>5} {hinted:>7}  {expected}: {'ok' if good else 'FAIL'}")
    status(f"wrote the verification of {len(DEMO_SHEETS)} claim sheets to {out_dir}/verify/")
    return ok
