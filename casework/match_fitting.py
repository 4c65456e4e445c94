"""Estimating the matching weights from data (Fellegi and Sunter, with EM as Splink).

The comparison of two records is a vector of levels, one per field
(``matching.compare_levels``). Fellegi and Sunter's model takes the fields
as independent within each class of pair; with no labels, expectation
maximisation estimates each class's probabilities and share from how often
each vector occurs: the E step gives every vector its probability of being
each class under the current estimates, the M step counts the levels again
weighted by it. Splink does the same over SQL with two classes; here the
vectors come from the comparison the app runs, so the levels fitted are
exactly the levels scored, and there are four classes
(``casework.match_weights``): one person (m), one family (h: twins,
siblings, cousins, which blocking brings in far more often than chance and
which agree on everything but a given name), another child of the same
name (n) and another child that blocking found on a shared date and one
name (u).

Two adjustments the model needs, both made by ``fit``:

* The namesakes' date-of-birth probabilities are taken from random pairs
  (as Splink estimates u by random sampling), not from the candidates:
  see ``with_chance_agreement``.
* A partnership holds few duplicates, so its fit starts from the stored
  probabilities and keeps them as a prior (``prior_strength`` pairs' worth
  per class): its own families and strangers are measured, its m moves
  only as far as its data show.

Two sources of pairs: the synthetic evaluation set (``bench.matching_fit``,
which also counts the probabilities from its labels to review the EM
estimates against) and a partnership's own records (``partnership_patterns``,
for ``manage.py fit_match_weights``): each record of a random sample
searched for among all the others as intake would, every candidate
compared, and random pairs within the sample.

Nothing here changes the weights in use: they are read, reviewed and put
in ``casework.match_weights`` by a person.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from casework import match_weights, matching
from safeguarding import access
from safeguarding.access import Actor

Probabilities = dict[str, dict[str, tuple[float, ...]]]  # field -> level -> one per class
Pattern = tuple[str | None, ...]
# One person, one family, another child of the same name, another child.
CLASSES = match_weights.CLASSES
_OTHERS = tuple(c for c in CLASSES if c != "m")

# A floor for every probability, and the pseudo-count every level of a
# class gets in each M step: a level never seen is rare, not impossible.
_FLOOR = 1e-5
_SMOOTHING = 0.5
# No class of other child loses its say entirely.
_MIN_SHARE = 0.01


def pattern_of(levels: Mapping[str, str | None]) -> Pattern:
    return tuple(levels[key] for key in matching.COMPARISON_FIELDS)


def count_patterns(vectors: Iterable[Mapping[str, str | None]]) -> Counter[Pattern]:
    """How often each comparison vector occurs."""
    return Counter(pattern_of(levels) for levels in vectors)


def shares_among_others(shares: Mapping[str, float]) -> dict[str, float]:
    """Of the candidates that are not the person, each class's share (each
    at least 1%, so none loses its say), as ``match_weights.SHARES``."""
    raw = {c: max(shares[c], 0.0) for c in _OTHERS}
    total = sum(raw.values()) or 1.0
    floored = {c: max(v / total, _MIN_SHARE) for c, v in raw.items()}
    norm = sum(floored.values())
    return {c: round(v / norm, 4) for c, v in floored.items()}


@dataclass
class Fit:
    probabilities: Probabilities
    shares: dict[str, float]  # of the candidate pairs, per class
    pairs: int
    iterations: int
    converged: bool
    seen: dict[str, Counter]  # how often each level occurred, per field

    @property
    def other_shares(self) -> dict[str, float]:
        return shares_among_others(self.shares)


def _seen(patterns: Counter[Pattern]) -> dict[str, Counter]:
    seen = {key: Counter() for key in matching.COMPARISON_FIELDS}
    for pattern, n in patterns.items():
        for key, level in zip(matching.COMPARISON_FIELDS, pattern):
            if level is not None:
                seen[key][level] += n
    return seen


def fit_em(
    patterns: Counter[Pattern], *, start: Probabilities | None = None, prior_strength: float = 0.0,
    iterations: int = 1000, tolerance: float = 1e-7,
) -> Fit:
    """Fit every class's probabilities and share to the candidate patterns by
    EM, from ``start`` (the stored probabilities unless given). With
    ``prior_strength`` > 0 the start is also a prior worth that many pairs
    of each class (maximum a posteriori), so a level the data hardly show
    keeps its stored probability."""
    start = match_weights.PROBABILITIES if start is None else start
    fields = matching.COMPARISON_FIELDS
    levels = {key: list(start[key]) for key in fields}
    for pattern in patterns:
        for key, level in zip(fields, pattern):
            if level is not None and level not in start[key]:
                raise ValueError(f"Level {level!r} of {key} is not in the stored table")
    tables = {
        c: {key: {level: start[key][level][i] for level in levels[key]} for key in fields}
        for i, c in enumerate(CLASSES)
    }
    shares = dict.fromkeys(CLASSES, 1 / len(CLASSES))
    total = sum(patterns.values())
    converged = False
    done = 0
    for done in range(1, iterations + 1):
        counts = {c: {key: dict.fromkeys(levels[key], 0.0) for key in fields} for c in CLASSES}
        class_totals = dict.fromkeys(CLASSES, 0.0)
        for pattern, n in patterns.items():
            logs = {}
            for c in CLASSES:
                value = math.log(shares[c])
                for key, level in zip(fields, pattern):
                    if level is not None:
                        value += math.log(tables[c][key][level])
                logs[c] = value
            top = max(logs.values())
            weights = {c: math.exp(v - top) for c, v in logs.items()}
            norm = sum(weights.values())
            for c in CLASSES:
                responsibility = n * weights[c] / norm
                class_totals[c] += responsibility
                for key, level in zip(fields, pattern):
                    if level is not None:
                        counts[c][key][level] += responsibility
        change = 0.0
        for c in CLASSES:
            new = min(max(class_totals[c] / total, 1e-6), 1 - 1e-6)
            change = max(change, abs(new - shares[c]))
            shares[c] = new
        for index, c in enumerate(CLASSES):
            for key in fields:
                # Add-half smoothing: a level a class never showed is rare, not impossible.
                weight = sum(counts[c][key].values()) + prior_strength + _SMOOTHING * len(levels[key])
                fresh = {}
                for level in levels[key]:
                    prior = prior_strength * start[key][level][index]
                    fresh[level] = max((counts[c][key][level] + prior + _SMOOTHING) / weight, _FLOOR)
                norm = sum(fresh.values())
                for level, value in fresh.items():
                    change = max(change, abs(value / norm - tables[c][key][level]))
                    tables[c][key][level] = value / norm
        if change < tolerance:
            converged = True
            break
    probabilities = {
        key: {level: tuple(round(tables[c][key][level], 6) for c in CLASSES) for level in levels[key]} for key in fields
    }
    return Fit(
        probabilities=probabilities, shares={c: round(v, 6) for c, v in shares.items()}, pairs=total,
        iterations=done, converged=converged, seen=_seen(patterns),
    )


def u_of(patterns: Counter[Pattern]) -> dict[str, dict[str, float]]:
    """How often each level occurs among pairs (add-half smoothing, so an
    unseen level is rare, not impossible)."""
    seen = _seen(patterns)
    result: dict[str, dict[str, float]] = {}
    for key in matching.COMPARISON_FIELDS:
        names = list(match_weights.PROBABILITIES[key])
        total = sum(seen[key].values()) + 0.5 * len(names)
        result[key] = {level: round(max((seen[key][level] + 0.5) / total, _FLOOR), 6) for level in names}
    return result


def random_pair_patterns(records: Sequence[matching.Details], *, pairs: int, seed: int = 1) -> Counter[Pattern]:
    """The comparison vectors of ``pairs`` random pairs of distinct records."""
    rng = random.Random(seed)
    patterns: Counter[Pattern] = Counter()
    if len(records) < 2:
        return patterns
    for _ in range(pairs):
        i, j = rng.sample(range(len(records)), 2)
        patterns[pattern_of(matching.compare_levels(records[i], records[j]))] += 1
    return patterns


def fit(
    candidate_patterns: Counter[Pattern], random_patterns: Counter[Pattern], *, start: Probabilities | None = None,
    prior_strength: float = 0.0,
) -> Fit:
    """EM on the candidate pairs, from ``start`` (the stored probabilities
    unless given), then the namesakes' dates from random pairs
    (``with_chance_agreement``)."""
    fitted = fit_em(candidate_patterns, start=start, prior_strength=prior_strength)
    fitted.probabilities = with_chance_agreement(fitted.probabilities, random_patterns)
    return fitted


# The fields whose namesake probabilities are taken from random pairs
# rather than from the candidates (see ``with_chance_agreement``).
CHANCE_FIELDS = ("dob",)


def with_chance_agreement(probabilities: Probabilities, random_patterns: Counter[Pattern]) -> Probabilities:
    """The namesakes' date-of-birth probabilities replaced by how the dates
    of two children drawn at random relate.

    Another child of the same name comes before the comparison because
    blocking found them on their names and a nearby date, so among the
    candidates their dates agree far more often than chance: counted there,
    "same date of birth" would look like weak evidence against a namesake
    and one born a few days apart elsewhere like a slip. Two children who
    merely share a name have dates related by chance alone: one date in
    thousands, a near one in about a hundred. Reviewed and adopted in
    ``match_weights``."""
    chance = u_of(random_patterns)
    index = CLASSES.index("n")
    result = {key: dict(levels) for key, levels in probabilities.items()}
    for key in CHANCE_FIELDS:
        result[key] = {
            level: tuple(chance[key][level] if i == index else p for i, p in enumerate(by_class))
            for level, by_class in probabilities[key].items()
        }
    return result


def labelled_probabilities(labelled: Iterable[tuple[Mapping[str, str | None], str]]) -> Probabilities:
    """Each class's probabilities counted directly from pairs whose truth is
    known (the synthetic set's: one of ``CLASSES``): the maximum-likelihood
    estimate where labels exist, and the reference the EM estimates are
    reviewed against. Add-half smoothing."""
    fields = matching.COMPARISON_FIELDS
    counts = {c: {key: Counter() for key in fields} for c in CLASSES}
    for levels, truth in labelled:
        for key in fields:
            if levels[key] is not None:
                counts[truth][key][levels[key]] += 1
    result: Probabilities = {}
    for key in fields:
        names = list(match_weights.PROBABILITIES[key])
        totals = {c: sum(counts[c][key].values()) + 0.5 * len(names) for c in CLASSES}
        result[key] = {
            level: tuple(round((counts[c][key][level] + 0.5) / totals[c], 6) for c in CLASSES) for level in names
        }
    return result


def review_table(columns: Mapping[str, Probabilities], seen: Mapping[str, Counter] | None = None) -> str:
    """A plain-text table for a person to review: for each field and level,
    each class's probability and the weights against each other class,
    log2(m/h), log2(m/n) and log2(m/u), under each set of probabilities."""
    names = list(columns)
    parts = list(CLASSES) + [f"m/{c}" for c in _OTHERS]
    header = ["field", "level"] + [f"{name} {part}" for name in names for part in parts]
    if seen is not None:
        header.append("pairs seen")
    rows = [header]
    for key in matching.COMPARISON_FIELDS:
        for level in match_weights.PROBABILITIES[key]:
            row = [key, level]
            for name in names:
                by_class = columns[name][key][level]
                row += [f"{p:.5f}" for p in by_class]
                row += [f"{math.log2(by_class[0] / by_class[CLASSES.index(c)]):+.2f}" for c in _OTHERS]
            if seen is not None:
                row.append(str(seen[key][level]))
            rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def as_python(probabilities: Probabilities, shares: Mapping[str, float]) -> str:
    """The probabilities and shares as ``casework.match_weights`` holds them."""
    lines = ["PROBABILITIES: dict[str, dict[str, tuple[float, float, float, float]]] = {"]
    for key, levels in probabilities.items():
        lines.append(f'    "{key}": {{')
        for level, by_class in levels.items():
            lines.append(f'        "{level}": ({", ".join(f"{p:.6f}" for p in by_class)}),')
        lines.append("    },")
    lines.append("}")
    lines.append(f"SHARES = {dict(shares)!r}")
    return "\n".join(lines)


@dataclass
class PartnershipPairs:
    candidates: Counter[Pattern]  # each sampled record against what blocking finds for it
    random: Counter[Pattern]  # random pairs within the sample
    records: int  # records sampled


def partnership_patterns(
    actor: Actor, *, sample: int = 2000, random_pairs: int = 100_000, seed: int = 1,
) -> PartnershipPairs:
    """The comparison vectors of a partnership's own records: a random
    sample of its young people, each searched for among all the others
    exactly as intake searches (``matching.find_candidates``), every
    candidate compared (each pair once); and ``random_pairs`` random pairs
    within the sample.

    Who: the hub's screeners, who may see the partnership's whole index
    (``access.visible_young_people``); anyone else gets ``access.NotAllowed``.
    Guarantees: reads only; no personal data leaves this function (only
    counts of comparison vectors); the run is written to the access log
    with counts alone.
    """
    if not actor.screens_referrals or actor.partnership is None:
        raise access.NotAllowed("Only the hub's screeners may fit the matching weights on their partnership's records")
    people = access.visible_young_people(actor).filter(anonymised_at__isnull=True)
    ids = list(people.values_list("pk", flat=True))
    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    patterns: Counter[Pattern] = Counter()
    compared: set[tuple[int, int]] = set()
    sampled: list[matching.Details] = []
    for start in range(0, len(chosen), 500):
        for person in people.filter(pk__in=chosen[start:start + 500]):
            details = matching.Details.of(person)
            sampled.append(details)
            for other, comparison in matching.find_candidates(
                details, partnership_id=actor.partnership_id, exclude=[person.pk],
            ):
                pair = (min(person.pk, other.pk), max(person.pk, other.pk))
                if pair not in compared:
                    compared.add(pair)
                    patterns[pattern_of(comparison.signals)] += 1
    access.log_access(
        actor, "match_weights_fit", object_type="young_person",
        detail={"records_searched": len(chosen), "pairs_compared": len(compared), "random_pairs": random_pairs},
    )
    return PartnershipPairs(
        candidates=patterns, random=random_pair_patterns(sampled, pairs=random_pairs, seed=seed),
        records=len(chosen),
    )
