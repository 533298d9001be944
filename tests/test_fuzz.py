"""Fuzzing: random networks, per unit and in layers, through every command's path (tests/fuzz_networks.py).

Each example draws a network and runs it through derive (its gradients against central differences)
and one of generate (the module imported, its gradients against differences of its own loss), handout
(the .tex rendered) and verify (the derivation's own gradient holds, a wrong one does not).  The outcome
must be success or a one-line ChainruleError: any other exception fails the test.  CI runs 85 examples (50 per unit, 35 in layers)
(derandomized, so every run draws the same networks); ``python3 scripts/fuzz.py`` runs thousands.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_networks import layer_spec, run_all, unit_spec

STAGES = st.sampled_from(("generate", "handout", "verify"))
FUZZ = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
_count = itertools.count()


def outcome(make, folder, seed: int, stage: str) -> str:
    spec = folder / f"fuzz_{next(_count)}.py"  # a new file (and module) each time: no stale bytecode
    spec.write_text(make(random.Random(seed)), encoding="utf-8")
    result = run_all(spec, folder, ("derive", stage))
    assert result == "ok" or "\n" not in result
    return result


@settings(max_examples=50, **FUZZ)
@given(seed=st.integers(0, 2**32 - 1), stage=STAGES)
def test_random_per_unit_networks(tmp_path_factory, seed, stage):
    outcome(unit_spec, tmp_path_factory.getbasetemp(), seed, stage)


@settings(max_examples=35, **FUZZ)
@given(seed=st.integers(0, 2**32 - 1), stage=STAGES)
def test_random_layer_networks(tmp_path_factory, seed, stage):
    outcome(layer_spec, tmp_path_factory.getbasetemp(), seed, stage)
