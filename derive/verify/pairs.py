r"""Claims about word2vec, one (center, outside) pair at a time, as cs224n (assignment 2) and J&M (ch. 6) write them.

A network whose examples are word pairs (all its inputs are word indices, one of them a single row
looked up as a vector: the center word's ``v_c = V[:, c]``) is checked one pair at a time, in the
course's notation::

    ∂J/∂v_c = U(ŷ − y)                                       dU = v_c (ŷ − y)ᵀ
    ∂J/∂u_w = (ŷ_w − y_w) v_c          ∂J/∂v_c = −u_o + Σ_w ŷ_w u_w
    ∂J/∂v_c = −(1 − σ(u_oᵀv_c)) u_o + Σ_k (1 − σ(−u_kᵀv_c)) u_k
    ∂J/∂u_o = −(1 − σ(u_oᵀv_c)) v_c    ∂J/∂u_k = (1 − σ(−u_kᵀv_c)) v_c
    ∂J/∂u_{w_s} = Σ_{k: w_k = w_s} (1 − σ(−u_{w_k}ᵀv_c)) v_c

Word variables: ``c`` the center word, ``o`` the outside word (row 0 of the second word-index
input, O = [o; w_1; …; w_K], or the hot row of a one-hot target), ``w_k`` (``k``) the k-th negative
sample, ``w_s`` (``s``) a sample's word, ``w`` any word.  ``u_x`` (any lower-case parameter name
whose columns are word vectors: ``u``, ``v``) is column x of U; ``ŷ_x``, ``y_x`` (a quantity with a
row per word, or per looked-up word) its entry x.  ``Σ_k`` (``\sum_{k=1}^{K}``) sums over the K
samples, ``Σ_w`` over the vocabulary, ``Σ_{k: w_k = w_s}`` over the samples equal to w_s; a left-hand
side with a free variable is checked for each of its values (``∂J/∂u_k`` for k = 1 … K, the term
of the k-th draw; ``∂J/∂u_{w_s}`` the gradient of word w_s's vector, so a word drawn twice sums its
terms; ``∂J/∂u_w`` for every word).  The network's own equations read the same way: one column of a
stacked lookup (``U_O = U[:, O]``) is the d×(K + 1) matrix [u_o u_{w_1} … u_{w_K}], so
``dv_c = U_O ds`` and ``dU_O = v_c dsᵀ`` hold as printed.  A claim that names no word variable and
no stacked lookup must also hold for a batch of pairs (``derive.verify.vectorised``).

The slips cs224n's graders see, each named with a counterexample: the sign of the negative
samples' term, σ(x) written where σ(−x) belongs (and back), a word drawn twice whose two terms
are not summed; ∂J/∂U written with a row per word, as cs224n's code stores the outside vectors
(|V| × d, the transpose of this d × |V| U's); ŷ written for ŷ − y; else one edit that makes it hold.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import sympy as sp

from ..functions import Sigmoid
from ..ops import find, record_of
from ..ops.text_nodes import Embed
from .claims import ClaimError, names_in, to_text
from .slips import describe_constant
from .vec_evaluate import ONE_BY_ONE_IS_A_NUMBER, ShapeError, evaluate
from .vec_read import read, target_name
from .vec_repairs import _replace, _walk, repairs
from .vec_target import VecTarget
from .vec_trials import TRIALS, Trial, run_trials
from .verdict import Verdict

SIGMOID = record_of(Sigmoid)  # word2vec's σ(u_kᵀ v_c), whose sign a slip flips

NOT_SYMBOLIC = "not attempted (claims about a pair are checked numerically, one pair at a time)"
INDICES = ("wk", "ws", "c", "o", "k", "s", "w")  # the word variables, longest first
CONDITIONAL = "z"  # the placeholder variable of Σ_{k: w_k = w_s}


def reads_pairs(net) -> bool:
    """Whether ``net``'s examples are word pairs: every input is word indices, no recurrence, and one input of
    one row is looked up as a vector (word2vec's center word, ``v_c = V[:, c]``)."""
    inputs = net.names("input")
    if net.recurrence is not None or not inputs or not all(n in net.index_inputs for n in inputs):
        return False
    return any(_lookup(net, n) is not None and net.matrices[n].shape[0] == 1 for n in inputs)


def _lookup(net, index: str):
    """The node that looks up the word vectors of word-index input ``index`` (``v_c = V[:, c]``), or None."""
    for a in net.assignments:
        if isinstance(a.value, Embed) and a.value.args[1] == net.matrices[index]:
            return a
    return None


class PairTarget(VecTarget):
    """A network of word pairs: its names and the course's word variables, at one pair (m = 1)."""

    def __init__(self, net):
        super().__init__(net)
        inputs = net.names("input")
        self.center = next(n for n in inputs if net.matrices[n].shape[0] == 1 and _lookup(net, n) is not None)
        self.outside = next((n for n in inputs if n != self.center), None)  # O = [o; w_1; …; w_K], if any
        self.vocab = net.index_inputs[self.center]
        self.columns = {n.lower(): n for n, (r, c) in net.params() if c == self.vocab}  # u → U: word vectors
        stacked = [_lookup(net, self.outside)] if self.outside else []
        self.stacked = {a.name for a in stacked if a is not None}  # U_O: one column is d×(K + 1)
        self.stacked |= {f"d{n}" for n in self.stacked}
        self.samples = net.matrices[self.outside].shape[0] - 1 if self.outside else 0
        self._keys: set[str] = set()
        self._repeat = False

    # ------------------------------------------------------------ names
    def names(self) -> tuple[str, ...]:
        return (*super().names(), *sorted(self._keys))

    def knows(self, name: str) -> bool:
        return super().knows(name) or self.word_name(name) is not None

    def word_name(self, name: str):
        """``(base, variable)`` of a name in word variables (``u_o`` → (U, o), ``yhat_w`` → (yhat, w)), or None;
        None for a name of the network's own, as written or without its underscores (``vc`` is v_c)."""
        own = super().names()
        if name in own or name.replace("_", "") in {n.replace("_", "") for n in own}:
            return None
        flat = name.replace("_", "")
        for index in INDICES:  # the word variables are lower-case: U_O is the lookup, u_o a vector
            if not flat.endswith(index) or len(flat) == len(index):
                continue
            base = flat[: -len(index)]
            if base in self.columns:
                return self.columns[base], index
            rows = [n for n in self.net.matrices if n.lower() == base.lower() and self._entries(n)]
            if len(rows) == 1:
                return rows[0], index
        return None

    def _entries(self, name: str) -> bool:
        """Whether quantity ``name`` has a row per word (ŷ, y, z) or per looked-up word (s, ŷ of O)."""
        rows = self.net.matrices[name].shape[0]
        return rows == self.vocab or (self.outside is not None and rows == self.net.matrices[self.outside].shape[0])

    # ----------------------------------------------------------- values
    def dims(self, rng: np.random.Generator) -> dict:
        from ..ir.network import M

        dims = {}
        for d in self.net.dim_sizes:
            dims[d] = int(rng.integers(6, 10)) if d == self.vocab else int(rng.integers(2, 5))
        dims[M] = 1
        return dims

    def values(self, rng: np.random.Generator, equations=None) -> tuple[dict, dict]:
        """One pair at random sizes: words drawn from 1 … |V| − 1; the samples never the outside word, two of
        them the same word at every other seed (a word drawn twice); y the course's: one-hot at o, or [1; 0 … 0]."""
        from ..ir.numeric import run

        dims = self.dims(rng)
        net = self.net

        def shape(name):
            return tuple(int(sp.sympify(x).subs(dims)) for x in net.matrices[name].shape)

        vocab = int(sp.sympify(self.vocab).subs(dims))
        env = {p: rng.normal(0.0, 0.7, shape(p)) for p in self.params}
        c, o = (int(x) for x in rng.choice(np.arange(1, vocab), 2, replace=False))
        env[self.center] = np.array([[c]])
        samples = []
        if self.outside:
            others = np.array([w for w in range(1, vocab) if w != o])
            samples = [int(w) for w in rng.choice(others, self.samples_at(dims))]
            if len(samples) >= 2 and self._repeat:
                samples[1] = samples[0]
            env[self.outside] = np.array([[o, *samples]]).T
        rows = shape(self.y)[0]
        env[self.y] = np.zeros((rows, 1))
        env[self.y][o if rows == vocab else 0, 0] = 1.0
        with np.errstate(all="ignore"):
            values = run(net.derive().equations if equations is None else equations, env, dims)
        for name in self.stacked:  # one column of a stacked lookup, read as the d×n matrix of its vectors
            n = int(sp.sympify(net.matrices[self.outside].shape[0]).subs(dims))
            values[name] = values[name].reshape(n, -1).T
        values["m"] = 1.0
        values[ONE_BY_ONE_IS_A_NUMBER] = True
        values["#words"] = {"c": c, "o": o, "samples": samples, "vocab": vocab}
        self.add_updates(values)
        return values, dims

    def at(self, seed: int) -> tuple[dict, dict]:
        """The pair of trial ``seed``; at every other seed two samples are the same word."""
        self._repeat = seed % 2 == 0
        return super().at(seed)

    def samples_at(self, dims) -> int:
        return int(sp.sympify(self.net.matrices[self.outside].shape[0]).subs(dims)) - 1 if self.outside else 0

    def add_updates(self, values: dict) -> None:
        for name in [n for n in self.stacked if not n.startswith("d")]:
            values.setdefault(f"{name}←", values[name])
        super().add_updates(values)

    # ------------------------------------------------------ word values
    def word(self, words: dict, variable: str, binding: dict) -> int:
        if variable == "c":
            return words["c"]
        if variable == "o":
            return words["o"]
        if variable in ("k", "wk", "s", "ws"):
            key = "k" if variable in ("k", "wk") else "s"
            if key not in binding:
                raise ClaimError(f"the word variable {variable} is not bound (a Σ_k over the samples, or ∂J/∂u_{key})")
            return words["samples"][binding[key] - 1]
        if "w" not in binding:
            raise ClaimError("the word variable w is not bound (a Σ_w over the vocabulary, or ∂J/∂u_w)")
        return binding["w"]

    def word_value(self, base: str, variable: str, env: dict, binding: dict):
        words = env["#words"]
        if base in self.params and self.net.matrices[base].shape[1] == self.vocab:
            return env[base][:, [self.word(words, variable, binding)]]
        rows = env[base].shape[0]
        if rows == words["vocab"]:
            return float(env[base][self.word(words, variable, binding), 0])
        # a row per looked-up word: o is row 0, the k-th sample row k
        if variable == "o":
            return float(env[base][0, 0])
        if variable in ("k", "wk"):
            return float(env[base][binding["k"], 0])
        raise ClaimError(f"{base}_{variable}: {base} has a row per looked-up word (o, then the samples k)")

    # ------------------------------------------------------ expanding
    def expand(self, tree, env: dict, binding: dict):
        """The claim with every sum over words written out and every word variable's name replaced by a key of
        ``env`` holding its value at ``binding``."""
        kind = tree[0]
        if kind == "name":
            found = self.word_name(tree[1])
            if found is None:
                return tree
            key = f"{found[0]}@{found[1]}@{sorted(binding.items())}"
            env[key] = self.word_value(*found, env, binding)
            self._keys.add(key)
            return ("name", key)
        if kind == "isum":
            var, body = tree[1], tree[4]
            words = env["#words"]
            if var == "k":
                values = [{"k": k} for k in range(1, len(words["samples"]) + 1)]
            elif var == CONDITIONAL:
                if "s" not in binding:
                    raise ClaimError("Σ_{k: w_k = w_s} needs w_s: write it for ∂J/∂u_{w_s}")
                chosen = words["samples"][binding["s"] - 1]
                values = [{"k": k} for k, w in enumerate(words["samples"], 1) if w == chosen]
            elif var == "w":
                values = [{"w": w} for w in range(words["vocab"])]
            else:
                raise ClaimError(f"cannot tell what Σ_{var} sums over (Σ_k over the samples, Σ_w over the words)")
            terms = [self.expand(body, env, {**binding, **b}) for b in values]
            if not terms:
                return ("num", sp.Integer(0))
            total = terms[0]
            for t in terms[1:]:
                total = ("add", total, t)
            return total
        if kind in ("num", "partial", "kron"):
            return tree
        if kind == "call":
            return ("call", tree[1], tuple(self.expand(a, env, binding) for a in tree[2]))
        return tuple(self.expand(x, env, binding) if isinstance(x, tuple) else x for x in tree)

    def free(self, tree) -> set[str]:
        """The word variables a claim leaves free (each k inside Σ_k is bound)."""
        kind = tree[0]
        if kind == "name":
            found = self.word_name(tree[1])
            if found is None or found[1] in ("c", "o"):
                return set()
            return {"k" if found[1] in ("k", "wk") else "s" if found[1] in ("s", "ws") else "w"}
        if kind == "isum":
            inner = self.free(tree[4])
            bound = {"k"} if tree[1] in ("k", CONDITIONAL) else {tree[1]}
            return (inner - bound) | ({"s"} if tree[1] == CONDITIONAL else set())
        if kind in ("num", "partial", "kron"):
            return set()
        children = tree[2] if kind == "call" else [x for x in tree[1:] if isinstance(x, tuple)]
        return set().union(*(self.free(c) for c in children)) if children else set()


# ------------------------------------------------------------------ reading
_BOLD = re.compile(r"\\(?:boldsymbol|bm|mathbf)\{([A-Za-z])\}")
_LATEX_WORD = re.compile(r"_\{\s*w\s*_\s*(?:\{\s*([a-z])\s*\}|([a-z]))\s*\}")
_LATEX_CONDITIONAL = re.compile(r"\\sum\s*_\s*\{\s*k\s*:\s*w_\{?k\}?\s*=\s*w_\{?s\}?\s*\}")
_LATEX_VOCAB = re.compile(r"\\sum\s*_\s*\{\s*w\s*\\in\s*[^{}]*(?:\{[^{}]*\})?[^{}]*\}")
_TEXT_WORD = re.compile(r"_\{\s*w\s*_\s*(?:\{\s*([a-z])\s*\}|([a-z]))\s*\}|_\{\s*([a-z])\s*\}")
_TEXT_SUMS = (
    (re.compile(r"(?:Σ|∑|sum)\s*_\s*\{\s*k\s*:\s*w_\{?k\}?\s*=\s*w_\{?s\}?\s*\}"), CONDITIONAL),
    (re.compile(r"(?:Σ|∑|sum)\s*_\s*(?:\{\s*w\s*(?:∈|in)\s*\w+\s*\}|\{\s*w\s*\}|w(?![\w]))"), "w"),
    (
        re.compile(r"(?:Σ|∑|sum)\s*_\s*(?:\{\s*k\s*(?:=\s*1)?\s*\}|k(?:\s*=\s*1)?(?![\w]))(?:\s*\^\s*\{?\s*K\s*\}?)?"),
        "k",
    ),
)


def _text(claim: str) -> str:
    """A text claim with its sums over words as calls (``Σ_k (…) u_k`` → ``sum_k((…) u_k)``, the sum taking the
    product after it) and ``u_{w_k}`` as ``u_wk``."""
    s = _TEXT_WORD.sub(lambda m: f"_w{m.group(1) or m.group(2)}" if m.group(3) is None else f"_{m.group(3)}", claim)
    s = s.replace("−", "-")
    for pattern, variable in _TEXT_SUMS:
        while True:
            m = pattern.search(s)
            if m is None:
                break
            j = m.end()
            while j < len(s) and s[j] == " ":
                j += 1
            end = _term_end(s, j)
            s = f"{s[: m.start()]}\x01{variable}({s[j:end].strip()}){s[end:]}"  # marked: not found again
    return s.replace("\x01", "sum_")


def _term_end(s: str, j: int) -> int:
    """Where the product after a Σ ends: the next + or − between terms, an unbalanced ')' or the end."""
    depth, seen = 0, False
    for k in range(j, len(s)):
        ch = s[k]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return k
        elif depth == 0 and ch in "+-" and seen and not _after_operator(s, j, k):
            return k
        if not ch.isspace():
            seen = True
    return len(s)


def _after_operator(s: str, j: int, k: int) -> bool:
    before = s[j:k].rstrip()
    return not before or before[-1] in "*/@(^,=" or before.endswith("**")


def _calls_as_sums(tree):
    """``sum_k(x)`` → the isum node LaTeX's ``\\sum_{k=1}^{K} x`` reads to."""
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "call" and tree[1] in ("sum_k", "sum_w", "sum_" + CONDITIONAL) and len(tree[2]) == 1:
        return ("isum", tree[1][len("sum_") :], None, None, _calls_as_sums(tree[2][0]))
    if tree[0] == "call":
        return ("call", tree[1], tuple(_calls_as_sums(a) for a in tree[2]))
    return tuple(_calls_as_sums(x) for x in tree)


def read_pair(net: PairTarget, claim: str, latex: bool, where=None):
    """(lhs, rhs) trees of a claim in the course's notation, text or LaTeX."""
    if latex:
        text = _BOLD.sub(r"\1", claim)
        text = _LATEX_CONDITIONAL.sub(r"\\sum_{" + CONDITIONAL + "}", text)
        text = _LATEX_VOCAB.sub(r"\\sum_{w}", text)
        text = _LATEX_WORD.sub(lambda m: f"_{{w{m.group(1) or m.group(2)}}}", text)
        return read(net, text, True, where)
    lhs, rhs = read(net, _text(claim), False, where)
    return _calls_as_sums(lhs), _calls_as_sums(rhs)


# ------------------------------------------------------------------ the truth
def truth_of(net: PairTarget, wrt: str | None, lhs, where=None):
    """(the name, the free variable or None, truth(env, binding), the derivation's text) of what a claim is for."""
    wanted = wrt[1:] if wrt and wrt.startswith("d") and net.word_name(wrt[1:]) else wrt
    if lhs is not None and lhs[0] == "partial" and lhs[1] in ("J", "L"):
        wanted = lhs[2]
    elif lhs is not None and lhs[0] == "name" and lhs[1].startswith("d"):
        wanted = lhs[1][1:]
    elif lhs is not None and lhs[0] == "jux" and lhs[1] == ("name", "d") and lhs[2][0] == "name":
        wanted = lhs[2][1]
    found = net.word_name(wanted) if wanted else None
    if found is None or found[0] not in net.params:  # a name of the network's own (dv_c, dU, ds)
        name = target_name(net, wrt, lhs, where)
        return name, None, lambda env, binding: env[name], net.truth_text(name)
    base, variable = found
    shown = f"∂J/∂{base.lower()}_{ {'wk': '{w_k}', 'ws': '{w_s}'}.get(variable, variable) }"
    free = {"k": "k", "wk": "k", "s": "s", "ws": "s", "w": "w"}.get(variable)
    gradient = f"d{base}"
    lookups = [n for n in net.stacked if not n.startswith("d")]
    if free == "k" and lookups:  # the k-th draw's own vector: column k of the lookup's gradient
        column = f"d{lookups[0]}"
        text = f"{shown} = column k of {column} ({net.truth_text(column)})"
        return shown, free, lambda env, binding: env[column][:, [binding["k"]]], text

    def truth(env, binding):
        return env[gradient][:, [net.word(env["#words"], variable, binding)]]

    word = {"wk": "w_k", "ws": "w_s"}.get(variable, variable)
    return shown, free, truth, f"{shown} = column {word} of {gradient} ({net.truth_text(gradient)})"


def bindings(net: PairTarget, free: str | None, env: dict) -> list[dict]:
    words = env["#words"]
    if free is None:
        return [{}]
    if free in ("k", "s"):
        return [{free: k} for k in range(1, len(words["samples"]) + 1)]
    return [{"w": w} for w in range(words["vocab"])]


def trials_of(net: PairTarget, truth, free, tree, trials: int = TRIALS) -> list[Trial]:
    out = []
    for seed in range(trials):
        base, dims = net.at(seed)
        words = base["#words"]
        shape = {str(k): v for k, v in sorted(dims.items(), key=lambda kv: str(kv[0])) if str(k) != "m"}
        shape.update(c=words["c"], o=words["o"])
        if words["samples"]:
            shape["w_1…w_K"] = " ".join(map(str, words["samples"]))
        claimed, true, problem = [], [], None
        for binding in bindings(net, free, base):
            env = dict(base)
            expected = np.asarray(truth(env, binding), dtype=float)
            try:
                with np.errstate(all="ignore"):
                    value = evaluate(net, net.expand(tree, env, binding), env)
            except ShapeError as exc:
                problem = str(exc)
                break
            value = np.asarray(value, dtype=float)
            if value.shape != expected.shape and value.size == expected.size == 1:
                value = value.reshape(expected.shape)
            if value.shape != expected.shape:
                problem = f"shape {value.shape}, not {expected.shape}"
                break
            claimed.append(value)
            true.append(expected)
        if problem is None:
            out.append(Trial(shape, seed, np.hstack(claimed), np.hstack(true), None))
        else:  # the truth's shape is the one the claim missed
            out.append(Trial(shape, seed, None, expected, problem))
    return out


def _batch_readable(net: PairTarget, lhs, rhs, free) -> bool:
    """Whether the claim is also a claim about a batch of pairs: no word variable, no stacked lookup."""
    names = names_in(rhs) | (names_in(lhs) if lhs is not None else set())
    if free is not None or any(net.word_name(n) is not None for n in names):
        return False
    stacked = {s.lower().replace("_", "") for s in net.stacked}
    return not any(n.lower().replace("_", "") in stacked for n in names) and not _has(rhs, "isum")


def _has(tree, kind: str) -> bool:
    return any(node[0] == kind for _, node in _walk(tree))


def verify_pairs(net: PairTarget, wrt, claim: str, *, latex: bool = False, where=None) -> Verdict:
    """Check a claim about one pair (and, where it can be read so, a batch of pairs)."""
    lhs, rhs = read_pair(net, claim, latex, where)
    name, free, truth, shown = truth_of(net, wrt, lhs, where)
    extra = net.free(rhs) - ({free} if free else set())
    if extra:
        variable = min(extra)
        raise ClaimError(f"the word variable {variable} is free on the right but not on the left (write Σ_{variable})")
    trials = trials_of(net, truth, free, rhs)
    if all(t.agrees for t in trials) and _batch_readable(net, lhs, rhs, free):
        batch = run_trials(VecTarget(net.net), name, rhs)  # the same claim for a batch of pairs
        if not all(t.agrees for t in batch):
            first = next(t for t in batch if not t.agrees)
            numeric = f"holds for one pair, differs for a batch at {sum(not t.agrees for t in batch)} of {len(batch)}"
            hint = "right for one pair (m = 1), wrong for a batch: J sums the pairs' losses, so no 1/m"
            return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, shown, first.counterexample(), hint)
    bad = [t for t in trials if not t.agrees]
    if not bad:
        numeric = f"agrees at {len(trials)} random pairs and sizes"
        return Verdict(name, claim, True, NOT_SYMBOLIC, numeric, shown)
    hint = pair_hint(net, truth, free, lhs, rhs, trials, name)
    numeric = f"differs at {len(bad)} of {len(trials)} random pairs and sizes"
    first = next((t for t in bad if t.problem is None and _repeats(t)), bad[0]) if hint and "twice" in hint else bad[0]
    return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, shown, first.counterexample(), hint)


def _repeats(t: Trial) -> bool:
    words = str(t.shape.get("w_1…w_K", "")).split()
    return len(words) != len(set(words))


# ------------------------------------------------------------------ slips
SAMPLE_VARIABLES = ("k", "wk", "s", "ws")


def pair_hint(net: PairTarget, truth, free, lhs, rhs, trials, name: str = "") -> str | None:
    """The slip of a wrong claim about a pair: the negative samples' sign, σ(x) for σ(−x), a word drawn twice not
    summed; the word vectors' gradient as rows (cs224n's code); a constant factor; else one edit (a transpose,
    the product's order, '*' for '@') that makes it hold."""

    def holds(candidate) -> bool:
        try:
            return all(t.agrees for t in trials_of(net, truth, free, candidate, trials=4))
        except ClaimError:
            return False

    samples = [(p, n) for p, n in _walk(rhs) if n[0] == "isum" and n[1] in ("k", CONDITIONAL)]
    for path, node in samples:
        if holds(_replace(rhs, path, ("neg", node))):
            return (
                "the sign of the negative samples' term: each sample adds +(1 − σ(−u_kᵀv_c)) u_k = +σ(u_kᵀv_c) u_k"
                " to ∂J/∂v_c (the samples' loss −log σ(−u_kᵀv_c) pushes v_c away from u_k), against the outside"
                " word's −(1 − σ(u_oᵀv_c)) u_o"
            )
    if free in ("k", "s") and holds(("neg", rhs)):
        return (
            "the sign of the negative sample's term: ∂J/∂u_k = +(1 − σ(−u_kᵀv_c)) v_c = σ(u_kᵀv_c) v_c, the"
            " opposite of the outside word's −(1 − σ(u_oᵀv_c)) v_c"
        )
    calls = [(p, n) for p, n in _walk(rhs) if n[0] == "call" and find(n[1]) is SIGMOID and len(n[2]) == 1]
    for group in _sigma_groups(net, calls):
        repaired = rhs
        for path, node in group:
            arg = node[2][0]
            flipped = arg[1] if arg[0] == "neg" else ("neg", arg)
            repaired = _replace(repaired, path, ("call", node[1], (flipped,)))  # σ, as the claim spelled it
        if holds(repaired):
            return _sigma_label(net, group)
    if free == "s" and not samples:
        body = _renamed_sample(rhs)
        if holds(("isum", CONDITIONAL, None, None, body)):
            return (
                "a word drawn twice among the negative samples has its terms summed: ∂J/∂u_{w_s} ="
                " Σ_{k: w_k = w_s} (1 − σ(−u_{w_k}ᵀv_c)) v_c (the scatter-add into U); the claim keeps one term"
            )
    if name[1:] in net.columns.values() and holds(("T", rhs)):
        return (
            f"{name} transposed: the claim is {name}ᵀ, one row per word, as cs224n's code stores the word vectors"
            f" (|V| × d); here {name[1:]} holds one column per word (d × |V|), so {net.truth_text(name)}"
        )
    for label, candidate in _target_left_out(net, rhs):
        if holds(candidate):
            return label
    ratio = _constant_ratio(trials)
    if ratio is not None:
        return describe_constant(Fraction(ratio).limit_denominator(1000))
    return next((label for label, candidate in repairs(rhs) if holds(candidate)), None)


def _target_left_out(net: PairTarget, rhs):
    """(label, repair) for each prediction in the claim written without its target: ŷ for ŷ − y (ŷ_w for ŷ_w − y_w)."""
    from .vec_target import resolve

    pred, target = net.net.cost_operands[:2]
    label = (
        f"−{target} left out: the loss's gradient at the scores is {pred} − {target}, and {target} marks the outside"
        f" word o, whose score u_oᵀv_c enters −log of its probability with a minus sign"
    )
    for path, node in _walk(rhs):
        if node[0] != "name":
            continue
        found = net.word_name(node[1])
        if found is not None and found[0] == pred:
            yield label, _replace(rhs, path, ("sub", node, ("name", f"{target}_{found[1]}")))
        elif found is None and net.knows(node[1]) and resolve(net, node[1]) == pred:
            yield label, _replace(rhs, path, ("sub", node, ("name", target)))


def _constant_ratio(trials) -> float | None:
    """The one factor (not 1) by which the claim differs from the truth at every trial, or None."""
    ratios = []
    for t in trials:
        if t.problem is not None:
            return None
        claimed, true = np.asarray(t.claimed, float), t.true
        big = np.abs(true) > 1e-9
        if not big.any() or not np.allclose(claimed[~big], 0, atol=1e-9):
            return None
        r = claimed[big] / true[big]
        if not np.allclose(r, r.flat[0], rtol=1e-8):
            return None
        ratios.append(float(r.flat[0]))
    if ratios and np.allclose(ratios, ratios[0], rtol=1e-8) and not np.isclose(ratios[0], 1.0):
        return ratios[0]
    return None


def _sigma_groups(net: PairTarget, calls):
    """The σ calls of a claim to flip together: each alone, then all of those about a sample, then all."""

    def about(node, variables):
        return any((found := net.word_name(n)) is not None and found[1] in variables for n in names_in(node))

    groups = [[c] for c in calls]
    sample_calls = [c for c in calls if about(c[1], SAMPLE_VARIABLES)]
    if len(sample_calls) > 1:
        groups.append(sample_calls)
    if len(calls) > 1:
        groups.append(calls)
    return groups


def _sigma_label(net: PairTarget, group) -> str:
    node = group[0][1]
    arg = node[2][0]
    names = {net.word_name(n)[1] for n in names_in(node) if net.word_name(n) is not None}
    written = f"σ({to_text(arg)})".replace(".T", "ᵀ").replace(" @ ", "").replace("*", "")
    if names & set(SAMPLE_VARIABLES):
        return (
            f"σ(x) written where σ(−x) belongs: {written} for a negative sample, whose term is 1 − σ(−u_kᵀv_c)"
            " = σ(u_kᵀv_c) (its loss is −log σ(−u_kᵀv_c), the probability that the sample is not a context word)"
        )
    return (
        f"σ(−x) written where σ(x) belongs: {written} for the outside word, whose term is −(1 − σ(u_oᵀv_c))"
        " (its loss is −log σ(u_oᵀv_c))"
    )


def _renamed_sample(tree):
    """The claim for w_s with s read as the summed k (u_{w_s} → u_{w_k})."""
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "name":
        name = tree[1]
        for old, new in (("_w_s", "_w_k"), ("_ws", "_wk"), ("ws", "wk"), ("_s", "_k")):
            if name.endswith(old):
                return ("name", name[: -len(old)] + new)
        return tree
    return tuple(_renamed_sample(x) for x in tree)


__all__ = ["PairTarget", "reads_pairs", "verify_pairs"]
