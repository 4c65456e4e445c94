"""The weights of evidence of young-person matching: fitted, then reviewed.

Fellegi and Sunter's model (m and u probabilities, as Splink uses it),
with a third class for the family. For each field of the comparison
(``casework.matching.COMPARISON_FIELDS``) and each level of agreement:

* ``m``: the probability of that level when the two records are one young
  person;
* ``h``: when they are two children of one family (twins, siblings,
  cousins), whom blocking puts in front of the comparison far more often
  than chance would, and who agree on nearly everything but a given name;
* ``u``: when they are two other children that blocking found (sharing a
  name, or a date of birth and one name); their dates of birth are taken
  as related by chance alone (random pairs), not as the candidates show.

Within each class the fields are taken as independent, as in Splink; the
family class is what independence cannot otherwise express (a twin agrees
on family name, date of birth and address at once, which other children
almost never do). A candidate's score, in bits, is

    log2 m(levels) - log2(FAMILY_SHARE * h(levels) + (1 - FAMILY_SHARE) * u(levels))

over the fields filled in on both sides (a blank field is no evidence
either way): each level adds log2(m/h) against a brother or sister and
log2(m/u) against another child, and the likelier of the two decides.

Where they come from (``python -m bench.matching_fit --families 5000
--free-u --python-labels``, tuning names, seed 20261125): the pairs the
blocking step puts in front of the comparison on the synthetic evaluation
set, 7,552 of them, counted by their labels (the maximum-likelihood
estimate where labels exist), with dates for the third class from 200,000
random pairs, then ``REVIEWED`` below on top. EM on the same pairs with the
labels unseen (what ``manage.py fit_match_weights`` runs on a
partnership's own records) recovers the shares within a point (one person
0.670 against 0.662, one family 0.235 against 0.244, others 0.095 against
0.094) and m within 0.011 for every level; its h and u differ more (it
puts a few namesakes among the families), and on the evaluation set
without the near-date namesakes, at the threshold where every class keeps
a recall of at least 0.99, the worst class's precision is 0.984 with its
probabilities against 0.996 with the counted ones, which are kept. A change is made here, by a
person, after reading the fit's table, never by a command.
"""

from __future__ import annotations

from math import log2

# field -> level -> (m, h, u)
PROBABILITIES: dict[str, dict[str, tuple[float, float, float]]] = {
    "given": {
        "exact": (0.728790, 0.000270, 0.157153),
        "nickname": (0.103428, 0.000270, 0.057082),
        "typo": (0.123813, 0.000270, 0.023256),
        "phonetic": (0.012691, 0.000811, 0.007752),
        "short_form": (0.031078, 0.001352, 0.013390),
        "none_same_family": (0.000100, 0.893485, 0.165610),
        "none": (0.000100, 0.103541, 0.575758),
    },
    "family": {
        "exact": (0.803338, 0.861584, 0.224806),
        "part": (0.089637, 0.033793, 0.035941),
        "nickname": (0.006895, 0.004055, 0.002114),
        "typo": (0.095233, 0.033793, 0.016209),
        "phonetic": (0.003098, 0.001352, 0.004933),
        "short_form": (0.000100, 0.000270, 0.009161),
        "none": (0.001699, 0.065153, 0.706836),
    },
    "swapped": {
        "no": (0.880924, 0.999729, 0.992221),
        "yes": (0.119076, 0.000271, 0.007779),
    },
    "dob": {
        "exact": (0.758569, 0.472290, 0.000362),
        "day_month_swapped": (0.077846, 0.022438, 0.000197),
        "one_digit": (0.108024, 0.032712, 0.007077),
        "digits_transposed": (0.028680, 0.007299, 0.000192),
        "days_apart": (0.003098, 0.001892, 0.000442),
        "near": (0.023683, 0.007299, 0.005907),
        "none": (0.000100, 0.456069, 0.985820),
    },
    "postcode": {
        "same": (0.885251, 0.966857, 0.119625),
        "district": (0.003133, 0.000301, 0.021110),
        "different": (0.111615, 0.032841, 0.859265),
    },
    "school": {
        "same": (0.999785, 0.999515, 0.048263),
        "different": (0.000215, 0.000485, 0.951737),
    },
    "gender": {
        "same": (0.999853, 0.484375, 0.585714),
        "different": (0.000147, 0.515625, 0.414286),
    },
    "upn": {
        "same": (0.998567, 0.002203, 0.019231),
        "different": (0.001433, 0.997797, 0.980769),
    },
    "nhs": {
        "same": (0.998031, 0.500000, 0.100000),
        "different": (0.001969, 0.500000, 0.900000),
    },
}
# Reviewed by hand where the synthetic data cannot say, and why. The unique
# pupil number and the NHS number are each one child's: the synthetic set
# has too few pairs with both filled in for their probabilities to mean
# anything (a dozen pairs give a stranger a one-in-thirty chance of sharing
# a number). A shared number is all but proof; a different one, given by
# two agencies that each checked it, is rarely a slip.
REVIEWED: dict[str, dict[str, tuple[float, float, float]]] = {
    "upn": {"same": (0.999, 0.0001, 0.00001), "different": (0.001, 0.9999, 0.99999)},
    "nhs": {"same": (0.999, 0.0001, 0.00001), "different": (0.001, 0.9999, 0.99999)},
}
PROBABILITIES = {key: {**levels, **REVIEWED.get(key, {})} for key, levels in PROBABILITIES.items()}

# Among candidates that are not the young person: the share from one family.
FAMILY_SHARE = 0.7234

# Scores (bits) at which a candidate is "likely the same person", and at
# which one below that is still shown to the hub as "possible".
MATCH_THRESHOLD = 4.5
REVIEW_THRESHOLD = -14.0


def log_tables(probabilities=None) -> dict[str, dict[str, tuple[float, float, float]]]:
    """log2 of each probability, per field and level: what scoring adds up."""
    probabilities = PROBABILITIES if probabilities is None else probabilities
    return {
        key: {level: tuple(log2(p) for p in triple) for level, triple in levels.items()}
        for key, levels in probabilities.items()
    }


LOG2 = log_tables()
