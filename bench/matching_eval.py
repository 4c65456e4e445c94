"""A labelled, synthetic evaluation set for young-person matching, and its score.

Nobody in it is real: names come from Faker (en_GB, fixed seed) and from
name lists typical of a London borough, dates and postcodes are drawn at
random. Each *family* has a base record in the index. Queries are either a
variant of a base record (the same person typed again by another agency:
typos, nicknames, swapped names, date-of-birth slips, hyphenated surnames,
transliterations, a missing or new postcode, combinations) or a *hard
negative*: a different person who shares a great deal with a base record
(a twin: same surname, date of birth and address; a sibling; a namesake
with the same name and another date of birth; a cousin). Half the hard
negatives are put in the index instead, so variants of their relative must
pick the right one of the two.

Matching runs exactly as in the app except that the blocking index is a
Python dict built with ``casework.matching.match_keys`` (the mirror of the
database trigger, tested to agree with it), so the evaluation needs no
database. A pair predicted as a match is one scoring at least the threshold.

Run: ``python -m bench.matching_eval --families 5000`` (prints recall,
precision and the errors per category).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from faker import Faker

SEED = 20261125
TODAY = dt.date(2026, 11, 25)

VARIANT_CATEGORIES = [
    "exact", "typo_given", "typo_family", "nickname", "transliteration", "swapped_names", "dob_day_month",
    "dob_one_digit", "dob_transposed", "hyphenated_surname", "missing_postcode", "moved_house", "case_and_accents",
    "preferred_as_given", "combined",
]
NEGATIVE_CATEGORIES = ["twin", "sibling", "namesake", "cousin"]

# Given names with nicknames or other spellings (each pair: recorded, typed later).
NICKNAME_PAIRS = {
    "male": [("William", "Bill"), ("William", "Liam"), ("Robert", "Bobby"), ("Thomas", "Tommy"), ("James", "Jamie"),
             ("Joseph", "Joe"), ("Michael", "Mikey"), ("Daniel", "Danny"), ("Alexander", "Alex"),
             ("Benjamin", "Ben"), ("Samuel", "Sam"), ("Charles", "Charlie"), ("Matthew", "Matt"),
             ("Nathaniel", "Nate"), ("Oliver", "Ollie"), ("Kieran", "Kez"), ("Joshua", "Josh"),
             ("Edward", "Eddie"), ("Anthony", "Tony"), ("Christopher", "Chris"), ("Mohammed", "Mo"),
             ("Zachary", "Zak"), ("Frederick", "Freddie")],
    "female": [("Elizabeth", "Lizzie"), ("Rebecca", "Becky"), ("Jessica", "Jess"), ("Abigail", "Abi"),
               ("Olivia", "Liv"), ("Victoria", "Vicky"), ("Katherine", "Katie"), ("Isabella", "Izzy"),
               ("Eleanor", "Ellie"), ("Kerry", "Kez"), ("Samantha", "Sam"), ("Charlotte", "Lottie"),
               ("Alexandra", "Lexi"), ("Jennifer", "Jenny")],
}
TRANSLITERATION_PAIRS = {
    "male": [("Mohammed", "Muhammad"), ("Mohamed", "Mohammad"), ("Yusuf", "Yousef"), ("Ibrahim", "Ebrahim"),
             ("Mustafa", "Mustapha"), ("Hussein", "Hussain"), ("Omar", "Umar"), ("Aleksandr", "Alexander"),
             ("Dmitri", "Dmitry"), ("Sergei", "Sergey"), ("Ahmed", "Ahmad"), ("Sean", "Shaun"),
             ("Jayden", "Jaden"), ("Aidan", "Aiden")],
    "female": [("Aisha", "Ayesha"), ("Fatima", "Fatimah"), ("Mariam", "Maryam"), ("Zainab", "Zaynab"),
               ("Khadija", "Khadijah"), ("Siobhan", "Shivaun"), ("Niamh", "Neve")],
}
FAMILY_SPELLINGS = [("McDonald", "MacDonald"), ("Nowak", "Novak"), ("Kowalski", "Kovalski"), ("Hussain", "Hussein"),
                    ("Ahmed", "Ahmad"), ("O'Brien", "OBrien"), ("Mohammed", "Muhammad"), ("Rahman", "Rehman"),
                    ("Chaudhry", "Choudhury"), ("Okafor", "Okafur"), ("Adeyemi", "Adeyemmi")]
ACCENTED = {"Zoe": "Zoë", "Chloe": "Chloé", "Jose": "José", "Renee": "Renée", "Noel": "Noël",
            "Ines": "Inês", "Bjorn": "Björn", "Lukasz": "Łukasz", "Zofia": "Zófia", "Sinead": "Sinéad"}
LONDON_GIVEN = {
    "male": ["Kwame", "Tyrone", "Jermaine", "Kofi", "Chidi", "Tobi", "Femi", "Dami", "Rashid", "Imran", "Bilal",
             "Hamza", "Ayaan", "Arjun", "Rohan", "Luca", "Mateo", "Kacper", "Jakub", "Darius", "Reuben", "Elijah",
             "Malik", "Andre", "Kai", "Theo", "Jude", "Ezra", "Ishaan", "Zain"],
    "female": ["Amara", "Chiamaka", "Ngozi", "Tiana", "Shanice", "Keisha", "Aaliyah", "Zara", "Imani", "Safiya",
               "Hafsa", "Amira", "Priya", "Ananya", "Maja", "Zuzanna", "Leila", "Yasmin", "Nia", "Esme", "Ruby",
               "Maisie", "Freya", "Ada", "Ivy", "Sienna", "Layla", "Mya", "Precious", "Blessing"],
}
LONDON_FAMILY = ["Okafor", "Adeyemi", "Mensah", "Boateng", "Owusu", "Campbell", "Thomas", "Ali", "Khan", "Begum",
                 "Hussain", "Rahman", "Patel", "Shah", "Singh", "Nowak", "Kowalski", "Silva", "Santos", "Ahmed",
                 "Osei", "Williams", "Brown", "Taylor", "Hughes", "Mohammed", "McDonald", "O'Brien", "Chaudhry",
                 "Nguyen", "Popescu", "Ivanova", "Hassan", "Abdi", "Warsame", "Yilmaz", "Demir"]
KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


@dataclass(frozen=True)
class Record:
    rid: str
    identity: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    postcode: str = ""
    preferred_name: str = ""
    gender: str = ""
    school_id: int | None = None
    unique_pupil_number: str = ""
    nhs_number: str = ""


@dataclass
class Query:
    record: Record
    category: str
    expected: str | None  # the rid of the true match in the index, or None


@dataclass
class EvalSet:
    index: list[Record]
    queries: list[Query]
    roles: dict[str, str] = field(default_factory=dict)  # rid -> "base" or a negative category


class Generator:
    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.serial = 0
        self.used_upns: set[str] = set()

    def rid(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def given(self, gender: str) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.fake.first_name_male() if gender == "male" else self.fake.first_name_female()
        return self.rng.choice(LONDON_GIVEN[gender])

    def family(self) -> str:
        return self.fake.last_name() if self.rng.random() < 0.5 else self.rng.choice(LONDON_FAMILY)

    def dob(self, *, swappable: bool = False) -> dt.date:
        while True:
            born = TODAY - dt.timedelta(days=self.rng.randint(10 * 365, 18 * 365))
            if not swappable or (born.day <= 12 and born.day != born.month):
                return born

    def upn(self) -> str:
        while True:
            value = "A" + "".join(self.rng.choice("0123456789") for _ in range(12))
            if value not in self.used_upns:
                self.used_upns.add(value)
                return value

    def nhs(self) -> str:
        while True:
            value = "".join(self.rng.choice("0123456789") for _ in range(10))
            if value not in self.used_upns:
                self.used_upns.add(value)
                return value

    def base(self, category: str) -> Record:
        gender = self.rng.choice(["male", "female"])
        given = self.given(gender)
        family = self.family()
        preferred = ""
        if category == "nickname":
            given, _ = self.rng.choice(NICKNAME_PAIRS[gender])
        elif category == "transliteration":
            if self.rng.random() < 0.7:
                given, _ = self.rng.choice(TRANSLITERATION_PAIRS[gender])
            else:
                family, _ = self.rng.choice(FAMILY_SPELLINGS)
        elif category == "case_and_accents":
            given = self.rng.choice(list(ACCENTED))
        elif category == "hyphenated_surname" and self.rng.random() < 0.5:
            family = f"{self.family()}-{self.family()}"
        elif category == "preferred_as_given":
            given, preferred = self.rng.choice(NICKNAME_PAIRS[gender])
            preferred = self.rng.choice([preferred, self.rng.choice(["Jay", "Dee", "Kiki", "Tee", "Bee", "Smudge"])])
        if category == "case_and_accents" and given in ACCENTED and self.rng.random() < 0.5:
            given = ACCENTED[given]
        return Record(
            rid=self.rid("b"), identity=self.rid("i"), given_name=given, family_name=family,
            date_of_birth=self.dob(swappable=category in ("dob_day_month", "combined")),
            postcode=self.fake.postcode(), preferred_name=preferred, gender=gender,
            school_id=self.rng.choice([None, *range(1, 25)]),
            unique_pupil_number=self.upn() if self.rng.random() < 0.4 else "",
            nhs_number=self.nhs() if self.rng.random() < 0.3 else "",
        )

    # -- slips ---------------------------------------------------------------

    def typo(self, name: str) -> str:
        if len(name) < 4:
            return name + name[-1]
        for _ in range(20):
            i = self.rng.randrange(1, len(name))  # the first letter is rarely the one mistyped
            kind = self.rng.choice(["substitute", "delete", "insert", "transpose"])
            c = name[i].lower()
            if kind == "substitute" and c in KEYBOARD_NEIGHBOURS:
                out = name[:i] + self.rng.choice(KEYBOARD_NEIGHBOURS[c]) + name[i + 1:]
            elif kind == "delete":
                out = name[:i] + name[i + 1:]
            elif kind == "insert":
                out = name[:i] + name[i] + name[i:]
            elif kind == "transpose" and i + 1 < len(name):
                out = name[:i] + name[i + 1] + name[i] + name[i + 2:]
            else:
                continue
            if out.lower() != name.lower():
                return out
        return name + "e"

    def dob_digit(self, born: dt.date) -> dt.date:
        from casework.matching import _date_from_digits

        digits = born.strftime("%Y%m%d")
        while True:
            i = self.rng.choice([3, 5, 6, 7, 7, 7])
            changed = _date_from_digits(digits[:i] + self.rng.choice("0123456789") + digits[i + 1:])
            if changed and changed != born and changed <= TODAY:
                return changed

    def dob_transposed(self, born: dt.date) -> dt.date:
        from casework.matching import _date_from_digits

        digits = born.strftime("%Y%m%d")
        for i in self.rng.sample([2, 4, 6], 3):
            changed = _date_from_digits(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
            if changed and changed != born and changed <= TODAY:
                return changed
        return self.dob_digit(born)

    def variant(self, base: Record, category: str) -> Record:
        r = replace(base, rid=self.rid("q"))
        # Another agency rarely has the identifiers the first one recorded.
        if self.rng.random() < 0.8:
            r = replace(r, unique_pupil_number="", nhs_number="")
        if self.rng.random() < 0.5:
            r = replace(r, school_id=None)
        if self.rng.random() < 0.3:
            r = replace(r, gender="")
        if category == "exact":
            pass
        elif category == "typo_given":
            r = replace(r, given_name=self.typo(r.given_name))
        elif category == "typo_family":
            r = replace(r, family_name=self.typo(r.family_name))
        elif category == "nickname":
            pair = {a: b for a, b in NICKNAME_PAIRS["male"] + NICKNAME_PAIRS["female"] if a == base.given_name}
            r = replace(r, given_name=pair.get(base.given_name, base.given_name))
        elif category == "transliteration":
            pairs = dict(TRANSLITERATION_PAIRS["male"] + TRANSLITERATION_PAIRS["female"])
            families = dict(FAMILY_SPELLINGS)
            if base.given_name in pairs:
                r = replace(r, given_name=pairs[base.given_name])
            elif base.family_name in families:
                r = replace(r, family_name=families[base.family_name])
        elif category == "swapped_names":
            r = replace(r, given_name=base.family_name, family_name=base.given_name)
        elif category == "dob_day_month":
            r = replace(r, date_of_birth=dt.date(base.date_of_birth.year, base.date_of_birth.day, base.date_of_birth.month))
        elif category == "dob_one_digit":
            r = replace(r, date_of_birth=self.dob_digit(base.date_of_birth))
        elif category == "dob_transposed":
            r = replace(r, date_of_birth=self.dob_transposed(base.date_of_birth))
        elif category == "hyphenated_surname":
            if "-" in base.family_name:
                a, b = base.family_name.split("-", 1)
                r = replace(r, family_name=self.rng.choice([a, b, f"{a} {b}"]))
            else:
                r = replace(r, family_name=f"{base.family_name}-{self.family()}")
        elif category == "missing_postcode":
            r = replace(r, postcode="")
        elif category == "moved_house":
            r = replace(r, postcode=self.fake.postcode(), given_name=self.rng.choice([r.given_name, self.typo(r.given_name)]))
        elif category == "case_and_accents":
            stripped = {v: k for k, v in ACCENTED.items()}
            given = stripped.get(base.given_name) or ACCENTED.get(base.given_name, base.given_name)
            r = replace(r, given_name=given.upper(), family_name=base.family_name.lower())
        elif category == "preferred_as_given":
            r = replace(r, given_name=base.preferred_name, preferred_name="")
        elif category == "combined":
            slips = self.rng.sample(["typo_given", "typo_family", "dob_day_month", "missing_postcode", "swapped_names"], 2)
            for slip in slips:
                r = replace(self.variant(r, slip), rid=r.rid)
        else:  # pragma: no cover
            raise ValueError(category)
        return r

    # -- hard negatives ------------------------------------------------------

    def different_given(self, base: Record, gender: str) -> str:
        from casework.matching import _token_level, tokens

        base_tokens = tokens(base.given_name) + tokens(base.preferred_name)
        while True:
            candidate = self.given(gender)
            # Parents do not give twins or siblings the same name, or one a
            # nickname or a one-letter variation of the other.
            if all(_token_level(t, u) == "none" for t in tokens(candidate) for u in base_tokens):
                return candidate

    def unrelated_dob(self, born: dt.date, *, within_years: int) -> dt.date:
        from casework.matching import dob_relation

        while True:
            other = born + dt.timedelta(days=self.rng.randint(-365 * within_years, 365 * within_years))
            if other <= TODAY and abs((other - born).days) > 300 and dob_relation(born, other) is None:
                return other

    def negative(self, base: Record, category: str) -> Record:
        gender = self.rng.choice(["male", "female"])
        common = dict(
            rid=self.rid("n"), identity=self.rid("i"), gender=gender,
            unique_pupil_number=self.upn() if base.unique_pupil_number and self.rng.random() < 0.6 else "",
        )
        if category == "twin":
            return Record(given_name=self.different_given(base, gender), family_name=base.family_name,
                          date_of_birth=base.date_of_birth, postcode=base.postcode, school_id=base.school_id, **common)
        if category == "sibling":
            return Record(given_name=self.different_given(base, gender), family_name=base.family_name,
                          date_of_birth=self.unrelated_dob(base.date_of_birth, within_years=5),
                          postcode=base.postcode, school_id=self.rng.choice([base.school_id, None]), **common)
        if category == "cousin":
            return Record(given_name=self.different_given(base, gender), family_name=base.family_name,
                          date_of_birth=self.unrelated_dob(base.date_of_birth, within_years=2),
                          postcode=self.fake.postcode(), **common)
        if category == "namesake":
            return Record(given_name=base.given_name, family_name=base.family_name,
                          date_of_birth=self.unrelated_dob(base.date_of_birth, within_years=6),
                          postcode=self.fake.postcode(), gender=base.gender, rid=common["rid"],
                          identity=common["identity"])
        raise ValueError(category)  # pragma: no cover


def build(families: int = 2000, *, seed: int = SEED) -> EvalSet:
    """The labelled set: ``families`` base records, one variant query of each,
    and hard negatives for about 60% of them (half indexed, half queried)."""
    gen = Generator(seed)
    index: list[Record] = []
    queries: list[Query] = []
    roles: dict[str, str] = {}
    for n in range(families):
        category = VARIANT_CATEGORIES[n % len(VARIANT_CATEGORIES)]
        base = gen.base(category)
        index.append(base)
        roles[base.rid] = "base"
        queries.append(Query(gen.variant(base, category), category, base.rid))
        for negative_category, chance in (("twin", 0.2), ("sibling", 0.2), ("namesake", 0.1), ("cousin", 0.1)):
            if gen.rng.random() < chance:
                other = gen.negative(base, negative_category)
                if gen.rng.random() < 0.5:
                    index.append(other)
                    roles[other.rid] = negative_category
                else:
                    if gen.rng.random() < 0.3:
                        other = replace(other, postcode="")
                    queries.append(Query(other, negative_category, None))
    return EvalSet(index=index, queries=queries, roles=roles)


def _details(record: Record):
    from casework.matching import Details

    return Details(
        given_name=record.given_name, family_name=record.family_name, preferred_name=record.preferred_name,
        date_of_birth=record.date_of_birth, postcode=record.postcode, school_id=record.school_id,
        gender=record.gender, unique_pupil_number=record.unique_pupil_number, nhs_number=record.nhs_number,
    )


@dataclass
class Report:
    families: int
    index_size: int
    queries: int
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    errors: dict[str, dict[str, int]]
    max_block: int

    @property
    def recall(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else 1.0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    def as_dict(self) -> dict:
        return {
            "families": self.families, "index_size": self.index_size, "queries": self.queries,
            "threshold": self.threshold, "recall": round(self.recall, 4), "precision": round(self.precision, 4),
            "true_positives": self.true_positives, "false_positives": self.false_positives,
            "false_negatives": self.false_negatives, "max_block": self.max_block, "errors": self.errors,
        }


def evaluate(families: int = 2000, *, seed: int = SEED, threshold: float | None = None, verbose: bool = False) -> Report:
    from casework import matching

    threshold = matching.MATCH_THRESHOLD if threshold is None else threshold
    data = build(families, seed=seed)
    blocks: dict[str, set[int]] = defaultdict(set)
    by_identifier: dict[str, int] = {}
    details = [_details(r) for r in data.index]
    for i, record in enumerate(data.index):
        for key in matching.match_keys(record.given_name, record.family_name, record.preferred_name,
                                       record.date_of_birth, record.postcode):
            blocks[key].add(i)
        for value in (record.unique_pupil_number, record.nhs_number):
            if value:
                by_identifier[value] = i

    tp = fp = fn = 0
    max_block = 0
    errors: dict[str, Counter] = defaultdict(Counter)
    for query in data.queries:
        qd = _details(query.record)
        found: set[int] = set()
        for key in matching.query_keys(qd, today=TODAY):
            found |= blocks.get(key, set())
        for value in (qd.unique_pupil_number, qd.nhs_number):
            if value in by_identifier:
                found.add(by_identifier[value])
        max_block = max(max_block, len(found))
        matched = {data.index[i].rid: matching.compare(qd, details[i]) for i in found}
        predicted = {rid for rid, c in matched.items() if c.score >= threshold}
        if query.expected is not None:
            if query.expected in predicted:
                tp += 1
            else:
                fn += 1
                errors[query.category]["missed"] += 1
                if verbose:
                    base = next(r for r in data.index if r.rid == query.expected)
                    print("MISS", query.category, query.record, base, matched.get(query.expected), file=sys.stderr)
        for rid in predicted - {query.expected}:
            fp += 1
            errors[query.category]["false_match"] += 1
            role = data.roles.get(rid, "base")
            if role != "base":
                errors[f"{role} (in index)"]["false_match"] += 1
            if verbose:
                other = next(r for r in data.index if r.rid == rid)
                print("FALSE", query.category, query.record, other, matched[rid], file=sys.stderr)
    return Report(
        families=families, index_size=len(data.index), queries=len(data.queries), threshold=threshold,
        true_positives=tp, false_positives=fp, false_negatives=fn,
        errors={k: dict(v) for k, v in sorted(errors.items())}, max_block=max_block,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--verbose", action="store_true", help="print every error to stderr")
    args = parser.parse_args(argv)
    # The evaluation needs Django's settings but never a database connection.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1:1/unused")
    import django

    django.setup()
    report = evaluate(args.families, seed=args.seed, threshold=args.threshold, verbose=args.verbose)
    print(json.dumps(report.as_dict(), indent=2))


if __name__ == "__main__":
    main()
