"""The weights of evidence of young-person matching: fitted, then reviewed.

Fellegi and Sunter's model (m and u probabilities, as Splink uses it),
with the "two people" side split into the kinds of other child that
blocking puts in front of the comparison. For each field of the
comparison (``casework.matching.COMPARISON_FIELDS``) and each level of
agreement, the probability of that level when the two records are:

* ``m``: one young person;
* ``h``: two children of one family (twins, siblings, cousins), who agree
  on nearly everything but a given name;
* ``n``: two children who share a name, whose dates of birth relate by
  chance alone (taken from random pairs, not from the candidates);
* ``u``: two other children, found on a shared date of birth and one name.

Within each class the fields are taken as independent, as in Splink; the
classes are what independence cannot otherwise express (a twin agrees on
family name, date of birth and address at once; a namesake on both names,
and on a date only by chance). A candidate's score, in bits, is

    log2 m(levels) - log2(SHARES["h"] h(levels) + SHARES["n"] n(levels) + SHARES["u"] u(levels))

over the fields filled in on both sides (a blank field is no evidence
either way): each level adds log2(m/h), log2(m/n) and log2(m/u) against
each kind of other child, and the likeliest kind decides
(``casework.matching.weigh``; the reasons say when a family or a namesake
held a record back).

Where they come from (``python -m bench.matching_fit --families 5000
--python-labels``, tuning names, seed 20261125): the pairs the blocking
step puts in front of the comparison on the synthetic evaluation set,
counted by their labels (the maximum-likelihood estimate where labels
exist), the namesakes' dates from 200,000 random pairs, then ``REVIEWED``
below on top. EM on the same pairs with the labels unseen, what ``manage.py
fit_match_weights`` runs on a partnership's own records, is printed beside
them for review (see the issue note for how close it comes). A change is
made here, by a person, after reading the fit's table, never by a command.
"""

from __future__ import annotations

from math import log2

# The classes of pair, in the order of each tuple below.
CLASSES = ("m", "h", "n", "u")

# field -> level -> (m, h, n, u)
PROBABILITIES: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "given": {
        "exact": (0.728790, 0.000270, 0.798319, 0.104793),
        "nickname": (0.103428, 0.000270, 0.109244, 0.052803),
        "typo": (0.123813, 0.000270, 0.042017, 0.023558),
        "phonetic": (0.012691, 0.000811, 0.008403, 0.008936),
        "short_form": (0.031078, 0.001352, 0.008403, 0.015435),
        "none_same_family": (0.000100, 0.893485, 0.025210, 0.186028),
        "none": (0.000100, 0.103541, 0.008403, 0.608448),
    },
    "family": {
        "exact": (0.803338, 0.861584, 0.848739, 0.171405),
        "part": (0.089637, 0.033793, 0.025210, 0.039805),
        "nickname": (0.006895, 0.004055, 0.008403, 0.002437),
        "typo": (0.095233, 0.033793, 0.092437, 0.010561),
        "phonetic": (0.003098, 0.001352, 0.008403, 0.005686),
        "short_form": (0.000100, 0.000270, 0.008403, 0.010561),
        "none": (0.001699, 0.065153, 0.008403, 0.759545),
    },
    "swapped": {
        "no": (0.880924, 0.999729, 0.903509, 0.999184),
        "yes": (0.119076, 0.000271, 0.096491, 0.000816),
    },
    "dob": {
        "exact": (0.758569, 0.472290, 0.000362, 0.564582),
        "day_month_swapped": (0.077846, 0.022438, 0.000197, 0.280260),
        "one_digit": (0.108024, 0.032712, 0.007077, 0.015435),
        "digits_transposed": (0.028680, 0.007299, 0.000192, 0.002437),
        "days_apart": (0.003098, 0.001892, 0.000442, 0.004062),
        "near": (0.023683, 0.007299, 0.005907, 0.012185),
        "none": (0.000100, 0.456069, 0.985820, 0.121040),
    },
    "postcode": {
        "same": (0.885251, 0.966857, 0.032967, 0.134942),
        "district": (0.003133, 0.000301, 0.032967, 0.020554),
        "different": (0.111615, 0.032841, 0.934066, 0.844504),
    },
    "school": {
        "same": (0.999785, 0.999515, 0.500000, 0.047718),
        "different": (0.000215, 0.000485, 0.500000, 0.952282),
    },
    "gender": {
        "same": (0.999853, 0.484375, 0.970588, 0.555180),
        "different": (0.000147, 0.515625, 0.029412, 0.444820),
    },
    "upn": {
        "same": (0.998567, 0.002203, 0.500000, 0.019231),
        "different": (0.001433, 0.997797, 0.500000, 0.980769),
    },
    "nhs": {
        "same": (0.998031, 0.500000, 0.500000, 0.100000),
        "different": (0.001969, 0.500000, 0.500000, 0.900000),
    },
}

# Reviewed by hand where the synthetic data cannot say, and why. The unique
# pupil number and the NHS number are each one child's: the synthetic set
# has too few pairs with both filled in for their probabilities to mean
# anything (a dozen pairs give a stranger a one-in-thirty chance of sharing
# a number). A shared number is all but proof; a different one, given by
# two agencies that each checked it, is rarely a slip.
REVIEWED: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "upn": {"same": (0.999, 0.0001, 0.00001, 0.00001), "different": (0.001, 0.9999, 0.99999, 0.99999)},
    "nhs": {"same": (0.999, 0.0001, 0.00001, 0.00001), "different": (0.001, 0.9999, 0.99999, 0.99999)},
}
PROBABILITIES = {key: {**levels, **REVIEWED.get(key, {})} for key, levels in PROBABILITIES.items()}

# Among candidates that are not the young person, the share of each class.
SHARES = {"h": 0.7343, "n": 0.0223, "u": 0.2434}

# Scores (bits) at which a candidate is "likely the same person", and at
# which one below that is still shown to the hub as "possible".
MATCH_THRESHOLD = 3.0
REVIEW_THRESHOLD = -14.0


def log_tables(probabilities=None) -> dict[str, dict[str, tuple[float, ...]]]:
    """log2 of each probability, per field and level: what scoring adds up."""
    probabilities = PROBABILITIES if probabilities is None else probabilities
    return {
        key: {level: tuple(log2(p) for p in by_class) for level, by_class in levels.items()}
        for key, levels in probabilities.items()
    }


LOG2 = log_tables()
