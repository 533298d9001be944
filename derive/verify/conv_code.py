"""A small interpreter for the code courses print for convolution and pooling: cs231n's naive loops and im2col,
deeplearning.ai's per-example loops (course 4, week 1), and the index form written as one assignment.

It runs a subset of Python on NumPy arrays without ever executing the text as Python: the source is parsed
(``ast``) and walked here, with a fixed set of names (``np.zeros``, ``np.pad``, ``np.sum``, ``range`` …), of
array attributes (``.shape``, ``.T``, ``.reshape`` …) and statements (assignments, ``+=``, ``for`` over
``range``, ``if``, function definitions and calls, ``return``, plain classes with methods and ``self.field``,
as 11-785's layers are written; ``np.random``'s initialisers seeded).  Anything else is refused in one line naming
its place (``file:line:column``), and a run is stopped after ``MAX_STEPS`` statements or when an array
would exceed ``MAX_ENTRIES`` entries, so a submission cannot hang or exhaust the machine.
"""

from __future__ import annotations

import ast
import operator

import numpy as np

from .claims import ClaimError

MAX_STEPS = 2_000_000  # statements and loop iterations of one run
MAX_ENTRIES = 5_000_000  # entries of any one array the code makes


class Stop(Exception):
    """``return`` from a function of the code."""

    def __init__(self, value):
        self.value = value


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


class Instance:
    """An object of a class the code defines (a layer: ``Conv2d_stride1(…)``), its fields set by its methods."""

    def __init__(self, cls: ast.ClassDef):
        self.cls = cls
        self.fields: dict = {}


class Random:
    """``np.random``'s initialisers, seeded: a layer's __init__ may draw its weights (the check sets its own)."""

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self.rng.normal(loc, scale, _checked_shape(size) if size is not None else None)

    def randn(self, *shape):
        return self.rng.standard_normal(_checked_shape(shape))

    def rand(self, *shape):
        return self.rng.random(_checked_shape(shape))

    def uniform(self, low=0.0, high=1.0, size=None):
        return self.rng.uniform(low, high, _checked_shape(size) if size is not None else None)

    def seed(self, _=None):
        return None


def _sized(maker):
    def make(*args, **kwargs):
        out = maker(*args, **kwargs)
        if np.size(out) > MAX_ENTRIES:
            raise ClaimError(f"an array of {np.size(out)} entries is more than the check allows ({MAX_ENTRIES})")
        return out

    return make


def _checked_shape(shape):
    n = int(np.prod(shape)) if np.ndim(shape) else int(shape)
    if n > MAX_ENTRIES:
        raise ClaimError(f"an array of {n} entries is more than the check allows ({MAX_ENTRIES})")
    return shape


NUMPY = {
    "zeros": lambda shape, dtype=float: np.zeros(_checked_shape(shape), dtype=dtype),
    "ones": lambda shape, dtype=float: np.ones(_checked_shape(shape), dtype=dtype),
    "empty": lambda shape, dtype=float: np.zeros(_checked_shape(shape), dtype=dtype),
    "zeros_like": np.zeros_like,
    "ones_like": np.ones_like,
    "empty_like": np.zeros_like,
    "pad": _sized(np.pad),
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "amax": np.max,
    "argmax": np.argmax,
    "unravel_index": np.unravel_index,
    "dot": np.dot,
    "matmul": np.matmul,
    "multiply": np.multiply,
    "maximum": np.maximum,
    "where": np.where,
    "arange": _sized(np.arange),
    "prod": np.prod,
    "reshape": np.reshape,
    "transpose": np.transpose,
    "flip": np.flip,
    "rot90": np.rot90,
    "tile": _sized(np.tile),
    "repeat": _sized(np.repeat),
    "einsum": np.einsum,
    "ones_like_": np.ones_like,
    "copy": np.copy,
    "array": np.array,
    "float64": np.float64,
    "float32": np.float32,
    "int64": np.int64,
    "newaxis": None,
    "add": np.add,
    "abs": np.abs,
    "isclose": np.isclose,
    "all": np.all,
    "any": np.any,
    "ravel": np.ravel,
    "stack": np.stack,
    "concatenate": np.concatenate,
    "broadcast_arrays": np.broadcast_arrays,
    "tensordot": np.tensordot,
}
BUILTINS = {
    "range": range,
    "xrange": range,  # the Python 2 years of cs231n's layers.py
    "len": len,
    "int": int,
    "float": lambda v=0.0: float(np.asarray(v).reshape(-1)[0]) if np.size(v) == 1 else float(v),  # float(b), b 1×1×1
    "tuple": tuple,
    "list": list,
    "zip": zip,
    "enumerate": enumerate,
    "min": min,
    "max": max,
    "abs": abs,
    "sum": sum,
    "print": lambda *a, **k: None,
    "True": True,
    "False": False,
    "None": None,
}
ARRAY_ATTRIBUTES = {"shape", "T", "ndim", "size", "dtype"}
ARRAY_METHODS = {"reshape", "transpose", "sum", "max", "min", "argmax", "copy", "flatten", "ravel", "astype", "dot",
                 "mean", "fill"}  # fmt: skip
ADD_METHODS = {"at"}  # np.add.at: col2im's scatter-add


class Interpreter:
    """Runs the functions of one source text: ``Interpreter(source, where).call(name, *args)``."""

    def __init__(self, source: str, where: str = "the code", *, statements: bool = False):
        """``statements``: the source is lines to run later in an environment (``run``), not a module."""
        self.where = where
        try:
            self.tree = ast.parse(source)
        except SyntaxError as exc:
            raise ClaimError(f"{where}:{exc.lineno}: cannot read the code ({exc.msg})") from None
        self.functions: dict[str, ast.FunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}  # 11-785's layer classes: Conv2d_stride1, MaxPool2d …
        self.globals: dict = {"__random__": Random()}
        self.unavailable: dict[str, str] = {}  # a name an import would bind: the module it comes from
        self.star: list[str] = []  # modules imported with *
        self.steps = 0
        for node in [] if statements else self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self._class(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
            elif isinstance(node, ast.Expr) or _main_block(node):
                continue  # a docstring, np.random.seed(0), if __name__ == "__main__": nothing a layer needs
            elif isinstance(node, ast.Assign):
                self.run([node], self.globals)
            else:
                self.fail(
                    node, f"only functions, classes, imports and constants at the top level, not {type(node).__name__}"
                )

    def _class(self, node: ast.ClassDef):
        if node.bases or node.keywords or node.decorator_list:
            self.fail(node, f"class '{node.name}': a plain class, with no base class or decorator")
        for item in node.body:
            docstring = isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)
            if not (docstring or isinstance(item, (ast.FunctionDef, ast.Pass))) or getattr(item, "decorator_list", []):
                self.fail(item, f"class '{node.name}' holds its methods only")
        self.classes[node.name] = node

    def methods(self, cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
        return {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}

    def make(self, name: str, *args, **kwargs) -> Instance:
        """A new object of the class ``name``, its ``__init__`` run with the arguments."""
        obj = Instance(self.classes[name])
        init = self.methods(obj.cls).get("__init__")
        if init is not None:
            self._call(init, (obj, *args), kwargs)
        return obj

    def method(self, obj: Instance, name: str, *args, **kwargs):
        fn = self.methods(obj.cls).get(name)
        if fn is None:
            raise ClaimError(f"{self.where}: class '{obj.cls.name}' has no method '{name}'")
        return self._call(fn, (obj, *args), kwargs)

    # ------------------------------------------------------------ errors
    def fail(self, node, problem: str):
        raise ClaimError(f"{self.where}:{getattr(node, 'lineno', '?')}:{getattr(node, 'col_offset', 0) + 1}: {problem}")

    def _import(self, node):
        """numpy is the one module there is; any other import binds nothing (a layers.py begins with
        ``from builtins import range`` and may ``import pdb``): a name it would bind fails where it is used."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "numpy":
                    self.unavailable[alias.asname or alias.name.split(".")[0]] = alias.name
            return
        module = "." * node.level + (node.module or "")
        if module.split(".")[0] in ("numpy", "builtins", "__future__"):
            return  # range, print …: the interpreter's own
        for alias in node.names:
            if alias.name == "*":
                self.star.append(module)
            else:
                self.unavailable[alias.asname or alias.name] = module

    # ------------------------------------------------------------ calls
    def call(self, name: str, *args, **kwargs):
        if name not in self.functions:
            raise ClaimError(f"{self.where}: no function '{name}'")
        return self._call(self.functions[name], args, kwargs)

    def _call(self, fn: ast.FunctionDef, args, kwargs):
        params = fn.args
        if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs:
            self.fail(fn, f"'{fn.name}' takes plain arguments only")
        names = [a.arg for a in params.args]
        defaults = dict(zip(names[len(names) - len(params.defaults) :], params.defaults, strict=True))
        local = dict(self.globals)
        for i, n in enumerate(names):
            if i < len(args):
                local[n] = args[i]
            elif n in kwargs:
                local[n] = kwargs[n]
            elif n in defaults:
                local[n] = self.value(defaults[n], local)
            else:
                self.fail(fn, f"'{fn.name}' needs its argument '{n}'")
        try:
            self.run(fn.body, local)
        except Stop as stop:
            return stop.value
        return None

    # ------------------------------------------------------------ statements
    def tick(self, node):
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.fail(node, f"the code runs more than {MAX_STEPS} steps on a small example: a loop that never ends?")

    def run(self, body, env: dict) -> None:
        for node in body:
            self.tick(node)
            if isinstance(node, ast.Assign):
                value = self.value(node.value, env)
                for target in node.targets:
                    self.assign(target, value, env)
            elif isinstance(node, ast.AugAssign):
                op = _BINARY.get(type(node.op))
                if op is None:
                    self.fail(node, "unsupported operator")
                self.augment(node.target, op, self.value(node.value, env), env)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self.assign(node.target, self.value(node.value, env), env)
            elif isinstance(node, ast.For):
                if node.orelse:
                    self.fail(node, "for … else is not supported")
                for item in self.iterate(node.iter, env):
                    self.tick(node)
                    self.assign(node.target, item, env)
                    self.run(node.body, env)
            elif isinstance(node, ast.If):
                self.run(node.body if self.value(node.test, env) else node.orelse, env)
            elif isinstance(node, ast.Return):
                raise Stop(None if node.value is None else self.value(node.value, env))
            elif isinstance(node, ast.Expr):
                if not isinstance(node.value, ast.Constant):
                    self.value(node.value, env)
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, (ast.Pass, ast.Assert)):
                continue
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
            else:
                self.fail(node, f"'{type(node).__name__}' statements are not supported")

    def iterate(self, node, env):
        value = self.value(node, env)
        if not isinstance(value, (range, zip, enumerate, list, tuple)):
            self.fail(node, "a for loop runs over range(…), a list or a tuple")
        return value

    def assign(self, target, value, env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(value)
            if len(values) != len(target.elts):
                self.fail(target, f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, values, strict=True):
                self.assign(t, v, env)
        elif isinstance(target, ast.Subscript):
            container = self.value(target.value, env)
            key = self.index(target.slice, env)
            try:
                container[key] = value
            except (IndexError, ValueError, TypeError) as exc:
                self.fail(target, f"cannot assign: {exc}")
        elif isinstance(target, ast.Attribute) and isinstance(obj := self.value(target.value, env), Instance):
            obj.fields[target.attr] = value  # self.A = A
        else:
            self.fail(target, "cannot assign to this")

    def augment(self, target, op, value, env) -> None:
        if isinstance(target, ast.Name):
            if target.id not in env:
                self.fail(target, f"'{target.id}' is used before it is given a value")
            current = env[target.id]
            env[target.id] = _inplace(op, current, value) if isinstance(current, np.ndarray) else op(current, value)
            return
        if isinstance(target, ast.Subscript):
            container = self.value(target.value, env)
            key = self.index(target.slice, env)
            try:
                container[key] = op(container[key], value)
            except (IndexError, ValueError, TypeError) as exc:
                self.fail(target, f"cannot update: {exc}")
            return
        if isinstance(target, ast.Attribute) and isinstance(obj := self.value(target.value, env), Instance):
            if target.attr not in obj.fields:
                self.fail(target, f"'self.{target.attr}' is used before it is given a value")
            current = obj.fields[target.attr]
            obj.fields[target.attr] = (
                _inplace(op, current, value) if isinstance(current, np.ndarray) else op(current, value)
            )
            return
        self.fail(target, "cannot update this")

    # ------------------------------------------------------------ expressions
    def value(self, node, env):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in BUILTINS:
                return BUILTINS[node.id]
            if node.id in self.functions:
                fn = self.functions[node.id]
                return lambda *a, **k: self._call(fn, a, k)
            if node.id in self.classes:
                return lambda *a, **k: self.make(node.id, *a, **k)
            if node.id in self.unavailable:
                self.fail(node, f"'{node.id}' comes from {self.unavailable[node.id]}: only numpy may be imported")
            star = f" (from {', '.join(self.star)} import *? only numpy may be imported)" if self.star else ""
            self.fail(node, f"unknown name '{node.id}'{star}")
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                self.fail(node, "unsupported operator")
            return self._apply(node, op, self.value(node.left, env), self.value(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self.value(node.operand, env)
            if isinstance(node.op, ast.USub):
                return -v
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(node.op, ast.Not):
                return not v
            self.fail(node, "unsupported operator")
        if isinstance(node, ast.Compare):
            left = self.value(node.left, env)
            result = True
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.value(right_node, env)
                if type(op) not in _COMPARE:
                    self.fail(node, "unsupported comparison")
                step = _COMPARE[type(op)](left, right)
                result = step if result is True else result & step
                left = right
            return result
        if isinstance(node, ast.BoolOp):
            values = [self.value(v, env) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.IfExp):
            return self.value(node.body if self.value(node.test, env) else node.orelse, env)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.value(e, env) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return {self.value(k, env): self.value(v, env) for k, v in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.Subscript):
            container = self.value(node.value, env)
            try:
                return container[self.index(node.slice, env)]
            except (IndexError, KeyError, ValueError, TypeError) as exc:
                self.fail(node, f"cannot index: {exc}")
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env)
        if isinstance(node, ast.Call):
            fn = self.value(node.func, env)
            args = [self.value(a, env) for a in node.args if not isinstance(a, ast.Starred)]
            if any(isinstance(a, ast.Starred) for a in node.args):
                self.fail(node, "*args is not supported")
            kwargs = {k.arg: self.value(k.value, env) for k in node.keywords if k.arg is not None}
            try:
                return fn(*args, **kwargs)
            except ClaimError:
                raise
            except Stop:
                raise
            except Exception as exc:  # noqa: BLE001 - NumPy's own complaint about the submitted code, in one line
                self.fail(node, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        self.fail(node, f"'{type(node).__name__}' is not supported")

    def _apply(self, node, op, left, right):
        try:
            return op(left, right)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            self.fail(node, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")

    def index(self, node, env):
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else self.value(p, env) for p in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Tuple):
            return tuple(self.index(e, env) for e in node.elts)
        return self.value(node, env)

    def attribute(self, node, env):
        if isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy") and node.value.id not in env:
            if node.attr == "random":
                return self.globals["__random__"]
            if node.attr not in NUMPY:
                self.fail(node, f"np.{node.attr} is not supported")
            return NUMPY[node.attr]
        base = self.value(node.value, env)
        if isinstance(base, Instance):
            if node.attr in base.fields:
                return base.fields[node.attr]
            if node.attr in self.methods(base.cls):
                return lambda *a, **k: self.method(base, node.attr, *a, **k)
            self.fail(node, f"'{base.cls.name}' object has no attribute '{node.attr}' (yet)")
        if isinstance(base, Random) and node.attr in ("normal", "randn", "rand", "uniform", "seed"):
            return getattr(base, node.attr)
        if base is np.add and node.attr in ADD_METHODS:
            return np.add.at
        if isinstance(base, (np.ndarray, np.generic)) and (node.attr in ARRAY_ATTRIBUTES or node.attr in ARRAY_METHODS):
            return getattr(base, node.attr)
        if isinstance(base, dict) and node.attr in ("get", "keys", "values", "items"):
            return getattr(base, node.attr)
        self.fail(node, f"'.{node.attr}' is not supported here")


def _main_block(node) -> bool:
    """``if __name__ == "__main__": …`` at the top level."""
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _inplace(op, current, value):
    if op is operator.add:
        current += value
    elif op is operator.sub:
        current -= value
    elif op is operator.mul:
        current *= value
    elif op is operator.truediv:
        current /= value
    else:
        return op(current, value)
    return current
