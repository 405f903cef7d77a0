"""Random valid orders of a family (for the fuzz test and `benchmarks/fuzz_slice.py`): values drawn
uniformly inside each parameter's declared range (on its step), kept only when the family's joint
validation accepts them, as a person filling the form at random would get them accepted."""

from __future__ import annotations

import random

import param

from somana_core.errors import InputError
from somana_core.geometry import get_family, make_spec

SAMPLE_TEXTS = ("", "Ada", "Somana", "Zoë K", "Lab 7", "Mia")


def random_values(family: str, rng: random.Random) -> dict:
    cls = get_family(family)
    values = {}
    for name in cls.parameter_names():
        p = cls.param[name]
        if isinstance(p, param.Boolean):
            values[name] = rng.random() < 0.5
        elif isinstance(p, param.Selector):
            values[name] = rng.choice(list(p.objects))
        elif isinstance(p, param.Number):
            lo, hi = p.bounds
            step = p.step or (hi - lo) / 100
            n = int(round((hi - lo) / step))
            value = lo + step * rng.randint(0, n)
            values[name] = int(round(value)) if isinstance(p, param.Integer) else round(min(value, hi), 6)
        elif isinstance(p, param.String):
            values[name] = rng.choice(SAMPLE_TEXTS)
    return values


def random_valid_specs(family: str, count: int, seed: int = 0, max_tries: int = 20000):
    """`count` specs accepted by validation, drawn with a seeded generator (reproducible);
    returns (specs, tries) so a caller can report the acceptance rate."""
    rng = random.Random(f"{family}:{seed}")
    specs, tries = [], 0
    while len(specs) < count and tries < max_tries:
        tries += 1
        try:
            specs.append(make_spec(family, random_values(family, rng)))
        except InputError:
            continue
    return specs, tries
