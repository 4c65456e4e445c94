"""Fit the matching weights on the synthetic evaluation set, for review.

    python -m bench.matching_fit --families 5000                    # EM, the review table, thresholds
    python -m bench.matching_fit --families 5000 --python-labels    # and the literal stored in casework/match_weights.py

Builds the evaluation set (``bench.matching_eval``, tuning names unless
``--names``), puts every query through blocking as the app does, compares
each candidate (``casework.matching.compare_levels``) and fits Fellegi and
Sunter's probabilities by expectation maximisation (``casework.match_fitting``:
one person, one family, other children) without looking at the labels.
Then, for review, it prints beside the EM estimates those counted from the
labels (the synthetic set knows which pairs are one person and which one
family), and the stored ones; and for each set, at thresholds from 0 to
10 bits, the worst recall and precision over the classes.
``--python`` / ``--python-labels`` print either as the literal for
``casework/match_weights.py`` (``REVIEWED`` there still applies on top).
"""

from __future__ import annotations

import argparse
import json

from collections import Counter

from bench.matching_eval import SEED, Blocks, _details, build, candidate_pairs, setup_django


def scored_queries(data, probabilities, shares):
    """Per query: its candidates' (score, same person?) best first."""
    from casework import matching

    blocks = Blocks(data.index)
    for query in data.queries:
        qd = _details(query.record)
        scored = []
        for i in blocks.candidates(qd):
            levels = matching.compare_levels(qd, blocks.details[i])
            scored.append((matching.score_of(levels, probabilities, shares=shares),
                           data.index[i].rid == query.expected))
        scored.sort(key=lambda pair: -pair[0])
        yield query, scored


def threshold_table(results, thresholds) -> list[dict]:
    """At each threshold: the worst recall and the worst precision over the
    variant classes, and the precision over all queries."""
    from bench.matching_eval import VARIANT_CATEGORIES

    rows = []
    for threshold in thresholds:
        worst_recall, worst_precision, tp, fp = (1.0, ""), (1.0, ""), 0, 0
        for category in VARIANT_CATEGORIES:
            mine = [scored for query, scored in results if query.category == category]
            found = sum(any(s >= threshold and same for s, same in scored) for scored in mine)
            false = sum(sum(1 for s, same in scored if s >= threshold and not same) for scored in mine)
            if mine and found / len(mine) < worst_recall[0]:
                worst_recall = (found / len(mine), category)
            if found + false and found / (found + false) < worst_precision[0]:
                worst_precision = (found / (found + false), category)
        for _, scored in results:
            tp += sum(1 for s, same in scored if s >= threshold and same)
            fp += sum(1 for s, same in scored if s >= threshold and not same)
        rows.append({
            "threshold": threshold, "worst_recall": round(worst_recall[0], 4), "in": worst_recall[1],
            "worst_precision": round(worst_precision[0], 4), "in ": worst_precision[1],
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        })
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--names", default="tuning")
    parser.add_argument("--random-pairs", type=int, default=200_000)
    parser.add_argument("--python-labels", action="store_true", help="print the counted probabilities as the literal")
    parser.add_argument("--python", action="store_true", help="print the literal for casework/match_weights.py")
    args = parser.parse_args(argv)
    setup_django()
    from casework import match_fitting, match_weights, matching

    data = build(args.families, seed=args.seed, names=args.names)
    labelled = [(matching.compare_levels(q, r), truth) for q, r, truth in candidate_pairs(data)]
    # EM on the queries' candidate pairs, labels unseen; the third class's
    # dates from random pairs of indexed records (chance alone).
    random_patterns = match_fitting.random_pair_patterns(
        Blocks(data.index).details, pairs=args.random_pairs, seed=args.seed,
    )
    patterns = match_fitting.count_patterns(levels for levels, _ in labelled)
    fit = match_fitting.fit(patterns, random_patterns)
    counted = match_fitting.with_chance_agreement(match_fitting.labelled_probabilities(labelled), random_patterns)
    truth = Counter(t for _, t in labelled)
    print(f"{fit.pairs:,} candidate "
          f"pairs, {len(patterns):,} distinct comparison vectors; EM "
          f"{'converged' if fit.converged else 'stopped'} after {fit.iterations} iterations; shares "
          f"{fit.shares} (true: {dict((k, round(v / len(labelled), 4)) for k, v in truth.items())})\n")
    print(match_fitting.review_table(
        {"stored": match_weights.PROBABILITIES, "EM": fit.probabilities, "labels": counted}, fit.seen,
    ))
    thresholds = [x / 2 for x in range(0, 21)]
    counted_shares = match_fitting.shares_among_others({c: truth[c] / len(labelled) for c in match_fitting.CLASSES})
    for name, probabilities, shares in (("EM", fit.probabilities, fit.other_shares), ("labels", counted, counted_shares)):
        print(f"\nThresholds on the {name} probabilities (shares of the others {shares}):")
        for row in threshold_table(list(scored_queries(data, probabilities, shares)), thresholds):
            print("  " + json.dumps(row))
    if args.python:
        print()
        print(match_fitting.as_python(fit.probabilities, fit.other_shares))
    if args.python_labels:
        print()
        print(match_fitting.as_python(counted, counted_shares))


if __name__ == "__main__":
    main()
