"""A labelled, synthetic evaluation set for young-person matching, and its score.

Nobody in it is real: names come from Faker's en_GB lists and from name
lists typical of a London borough, dates and postcodes are drawn at random.
Each *family* has a base record in the index. Queries are either a variant
of a base record (the same person typed again by another agency) or a
*hard negative*: a different person who shares a great deal with a base
record (a twin: same surname, date of birth and address; a sibling; a
namesake with the same name, born years apart elsewhere; a cousin). Half
the hard negatives are put in the index instead, so variants of their
relative must pick the right one of the two. A harder namesake, born days
or weeks apart elsewhere (``namesake_near``), is reported on its own and
left out by ``--no-near-namesakes``: on name, date and address alone it is
a date slip by someone who has moved.

The variant classes (``VARIANT_CATEGORIES``): typing slips, nicknames,
transliterations, swapped names, date-of-birth slips (day and month
swapped, one digit, two digits transposed), hyphenated surnames, a missing
or new postcode, case and accents, a preferred name typed as the given
name, two slips combined, and the near misses of issue 19:

* ``dob_near``: a date of birth days away (the day before, ten days apart)
  or with day and month both slightly off, everything else agreeing;
* ``short_form``: a short form or prefix of the given name across
  cultures (Eli for Elijah, Abdi for Abdirahman, Emeka for Chukwuemeka,
  Dann for Daniel);
* ``other_spelling``: the name spelt as another language or the ear would
  (Casper and Kacper, Kye and Kai, ph and f, ou and u), given or family;
* ``swapped_plus_slip``: given and family names swapped, and one more slip;
* ``double_barrelled_moved``: one part of a double-barrelled family name
  given alone, by someone who has also moved house.

Honest figures need data the matcher was not tuned on. ``--names`` picks
one of two disjoint halves of every name list (the given and family name
pools, the nickname, transliteration, short-form and spelling pairs):
``tuning`` (what the weights and rules were tuned and fitted on) or
``heldout`` (not looked at while tuning; looked at once after, and a few
general rules added then: see the issue note), and ``fresh``: the
held-out people with pairs written after that and run once;
``--seed`` changes every draw.

Matching runs exactly as in the app except that the blocking index is a
Python dict built with ``casework.matching.match_keys`` (the mirror of the
database trigger, tested to agree with it), so the evaluation needs no
database. A pair predicted as a match is one scoring at least the
system's threshold (``MATCH_THRESHOLD``); a pair in the hub's review band
scores at least ``REVIEW_THRESHOLD`` and is among the ``RESULT_LIMIT``
best (what the screener is shown).

Run: ``python -m bench.matching_eval --families 5000 --names heldout
--seed 7`` (prints recall, precision and recall within the review band,
overall and per class; ``--markdown`` prints the per-class table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from faker import Faker

SEED = 20261125
TODAY = dt.date(2026, 11, 25)
NAME_SETS = ("tuning", "heldout", "fresh")

VARIANT_CATEGORIES = [
    "exact", "typo_given", "typo_family", "nickname", "transliteration", "swapped_names", "dob_day_month",
    "dob_one_digit", "dob_transposed", "hyphenated_surname", "missing_postcode", "moved_house", "case_and_accents",
    "preferred_as_given", "combined",
    # The near misses of issue 19.
    "dob_near", "short_form", "other_spelling", "swapped_plus_slip", "double_barrelled_moved",
]
NEGATIVE_CATEGORIES = ["twin", "sibling", "namesake", "cousin"]
# Harder than the namesake (a common name elsewhere, born years
# apart): the same name born days or weeks apart elsewhere. On name, date
# and address alone it looks like a slip of the date by someone who has
# moved; reported on its own, outside the targets (``--no-near-namesakes``
# leaves it out).
EXTRA_NEGATIVE_CATEGORIES = ["namesake_near"]

# Each list comes in two disjoint halves: [tuning, held-out]. Pairs are
# (recorded, typed later).
NICKNAME_PAIRS_BY_SET = {
    "tuning": {
        "male": [("William", "Bill"), ("William", "Liam"), ("Robert", "Bobby"), ("Thomas", "Tommy"),
                 ("James", "Jamie"), ("Joseph", "Joe"), ("Michael", "Mikey"), ("Daniel", "Danny"),
                 ("Alexander", "Alex"), ("Benjamin", "Ben"), ("Samuel", "Sam"), ("Charles", "Charlie"),
                 ("Matthew", "Matt"), ("Nathaniel", "Nate"), ("Oliver", "Ollie"), ("Kieran", "Kez"),
                 ("Joshua", "Josh"), ("Edward", "Eddie"), ("Anthony", "Tony"), ("Christopher", "Chris"),
                 ("Mohammed", "Mo"), ("Zachary", "Zak"), ("Frederick", "Freddie")],
        "female": [("Elizabeth", "Lizzie"), ("Rebecca", "Becky"), ("Jessica", "Jess"), ("Abigail", "Abi"),
                   ("Olivia", "Liv"), ("Victoria", "Vicky"), ("Katherine", "Katie"), ("Isabella", "Izzy"),
                   ("Eleanor", "Ellie"), ("Kerry", "Kez"), ("Samantha", "Sam"), ("Charlotte", "Lottie"),
                   ("Alexandra", "Lexi"), ("Jennifer", "Jenny")],
    },
    "heldout": {
        "male": [("Harold", "Harry"), ("Ronald", "Ronnie"), ("Leonard", "Lenny"), ("Gerald", "Gerry"),
                 ("Terence", "Terry"), ("Lawrence", "Larry"), ("Raymond", "Ray"), ("Theodore", "Teddy"),
                 ("Jacob", "Jake"), ("Timothy", "Timmy"), ("Patrick", "Paddy"), ("Francis", "Frankie"),
                 ("Gregory", "Greg"), ("Jeremy", "Jez"), ("Stuart", "Stu"), ("Dominic", "Dom"),
                 ("Richard", "Ricky"), ("Peter", "Pete"), ("Douglas", "Dougie"), ("Kenneth", "Kenny")],
        "female": [("Patricia", "Trish"), ("Susan", "Sue"), ("Deborah", "Debbie"), ("Jacqueline", "Jackie"),
                   ("Harriet", "Hattie"), ("Dorothy", "Dotty"), ("Catherine", "Kitty"), ("Margaret", "Maggie"),
                   ("Florence", "Flo"), ("Josephine", "Josie"), ("Gabrielle", "Gabby"), ("Natalie", "Nat"),
                   ("Penelope", "Penny"), ("Amanda", "Mandy")],
    },
    "fresh": {
        "male": [("Nicholas", "Nicky"), ("Benedict", "Benny"), ("Archibald", "Archie"), ("Alfred", "Alfie"),
                 ("Edmund", "Ned"), ("Reginald", "Reggie"), ("Bernard", "Bernie"), ("Vincent", "Vinnie"),
                 ("Cameron", "Cam"), ("Harrison", "Harry"), ("Jackson", "Jack"), ("Sebastian", "Bastian")],
        "female": [("Rosemary", "Rosie"), ("Antonia", "Toni"), ("Georgina", "Georgie"), ("Beatrice", "Bea"),
                   ("Matilda", "Tilly"), ("Frances", "Frankie"), ("Christina", "Tina"), ("Evelyn", "Evie"),
                   ("Theodora", "Thea"), ("Wilhelmina", "Mina")],
    },
}
TRANSLITERATION_PAIRS_BY_SET = {
    "tuning": {
        "male": [("Mohammed", "Muhammad"), ("Mohamed", "Mohammad"), ("Yusuf", "Yousef"), ("Ibrahim", "Ebrahim"),
                 ("Mustafa", "Mustapha"), ("Hussein", "Hussain"), ("Omar", "Umar"), ("Aleksandr", "Alexander"),
                 ("Dmitri", "Dmitry"), ("Sergei", "Sergey"), ("Ahmed", "Ahmad"), ("Sean", "Shaun"),
                 ("Jayden", "Jaden"), ("Aidan", "Aiden")],
        "female": [("Aisha", "Ayesha"), ("Fatima", "Fatimah"), ("Mariam", "Maryam"), ("Zainab", "Zaynab"),
                   ("Khadija", "Khadijah"), ("Siobhan", "Shivaun"), ("Niamh", "Neve")],
    },
    "heldout": {
        "male": [("Khalid", "Khaled"), ("Hamid", "Hameed"), ("Rashid", "Rasheed"), ("Nasir", "Naseer"),
                 ("Zubair", "Zubayr"), ("Suleiman", "Sulaiman"), ("Ismail", "Ismael"), ("Yaqub", "Yakub"),
                 ("Mohamud", "Mohamed"), ("Abdullahi", "Abdulahi"), ("Mikhail", "Mihail"), ("Aleksei", "Alexei"),
                 ("Oisin", "Osheen"), ("Tariq", "Tarek")],
        "female": [("Fatuma", "Fatima"), ("Hafsa", "Hafsah"), ("Sumaya", "Sumaiya"), ("Ruqayyah", "Rukaya"),
                   ("Saoirse", "Seersha"), ("Aoife", "Eefa"), ("Natalya", "Natalia")],
    },
    "fresh": {
        "male": [("Mohammad", "Muhamad"), ("Osama", "Usama"), ("Abdelkader", "Abdulqadir"), ("Hamza", "Hamzah"),
                 ("Idris", "Idriss"), ("Yahya", "Yehia"), ("Mahdi", "Mehdi"), ("Bilal", "Belal"), ("Anwar", "Anouar"),
                 ("Jamal", "Gamal"), ("Taha", "Taaha"), ("Andriy", "Andrii"), ("Volodymyr", "Wolodymyr")],
        "female": [("Amina", "Aminah"), ("Halima", "Halimah"), ("Safiya", "Safia"), ("Leyla", "Leila"),
                   ("Nour", "Noor"), ("Rania", "Raniya"), ("Khadija", "Khadeeja"), ("Oksana", "Oxana"),
                   ("Tetiana", "Tatiana")],
    },
}
FAMILY_SPELLINGS_BY_SET = {
    "tuning": [("McDonald", "MacDonald"), ("Nowak", "Novak"), ("Kowalski", "Kovalski"), ("Hussain", "Hussein"),
               ("Ahmed", "Ahmad"), ("O'Brien", "OBrien"), ("Mohammed", "Muhammad"), ("Rahman", "Rehman"),
               ("Chaudhry", "Choudhury"), ("Okafor", "Okafur"), ("Adeyemi", "Adeyemmi")],
    "heldout": [("McKenzie", "MacKenzie"), ("Wojcik", "Voycik"), ("Lewandowski", "Levandovski"),
                ("Mahmoud", "Mahmood"), ("Siddiqui", "Siddiqi"), ("Qureshi", "Kureshi"), ("O'Neill", "ONeil"),
                ("Chowdhury", "Choudhury"), ("Onyekachi", "Onyekachukwu"), ("Adebayo", "Adebayoh")],
    "fresh": [("McCarthy", "MacCarthy"), ("Mohamud", "Mohamoud"), ("Yildiz", "Yildis"), ("McLeod", "MacLeod"),
              ("O'Connor", "OConnor"), ("Mensah", "Mensa"), ("Begum", "Begom")],
}
# Short forms that are prefixes or shortened forms of the full name, across cultures.
SHORT_FORMS_BY_SET = {
    "tuning": {
        "male": [("Elijah", "Eli"), ("Abdirahman", "Abdi"), ("Chukwuemeka", "Emeka"), ("Daniel", "Dann"),
                 ("Oluwaseun", "Seun"), ("Abdullahi", "Abdul"), ("Sebastian", "Seb"), ("Maximilian", "Max"),
                 ("Oluwatobi", "Tobi"), ("Chinonso", "Nonso"), ("Abdikarim", "Abdi"), ("Theodore", "Theo"),
                 ("Ayodeji", "Ayo"), ("Ifeanyichukwu", "Ifeanyi"), ("Jonathan", "Jon"), ("Nathaniel", "Nathan")],
        "female": [("Gabriella", "Gabi"), ("Oluwakemi", "Kemi"), ("Valentina", "Val"), ("Isabella", "Isa"),
                   ("Chiamaka", "Amaka"), ("Anastasia", "Ana"), ("Ngozichukwu", "Ngozi"), ("Francesca", "Fran")],
    },
    "heldout": {
        "male": [("Oluwafemi", "Femi"), ("Chidiebere", "Chidi"), ("Abdiwali", "Abdi"), ("Olumide", "Mide"),
                 ("Leonardo", "Leo"), ("Montgomery", "Monty"), ("Obinnaya", "Obinna"), ("Abdulkadir", "Abdul"),
                 ("Christian", "Chris"), ("Emmanuel", "Manny"), ("Mohammedamin", "Amin"), ("Augustin", "Gus"),
                 ("Tobias", "Tobi"), ("Adebowale", "Bowale"), ("Giovanni", "Gio"), ("Bartholomew", "Bart")],
        "female": [("Oluwadamilola", "Dami"), ("Adebola", "Bola"), ("Adaora", "Ada"), ("Annabelle", "Anna"),
                   ("Evangeline", "Eva"), ("Rosalind", "Ros"), ("Chinwendu", "Wendy"), ("Nkechinyere", "Nkechi")],
    },
    "fresh": {
        "male": [("Abdulrahman", "Abdul"), ("Oluwatosin", "Tosin"), ("Oluwaseyi", "Seyi"), ("Ikechukwu", "Ike"),
                 ("Chibuike", "Chibu"), ("Obiora", "Obi"), ("Abdiqani", "Abdi"), ("Maximus", "Max"),
                 ("Alessandro", "Ale"), ("Fitzgerald", "Fitz"), ("Barnaby", "Barney"), ("Nathaniel", "Nat")],
        "female": [("Oluwabunmi", "Bunmi"), ("Folasade", "Sade"), ("Adaobi", "Ada"), ("Ngozika", "Ngozi"),
                   ("Anastasiya", "Nastya"), ("Magdalena", "Magda"), ("Josephina", "Josie"), ("Oluwafunmilayo", "Funmi")],
    },
}
# Spellings across languages and sounds (given names; family names below).
OTHER_SPELLINGS_BY_SET = {
    "tuning": {
        "male": [("Casper", "Kacper"), ("Kye", "Kai"), ("Philip", "Filip"), ("Yusuf", "Yousuf"), ("Viktor", "Victor"),
                 ("Lucas", "Lukas"), ("Nicolas", "Nikolas"), ("Mikael", "Michael"), ("Jakub", "Yakub"),
                 ("Kristian", "Christian"), ("Rafael", "Raphael"), ("Josef", "Joseph"), ("Tomasz", "Tomash"),
                 ("Szymon", "Shimon"), ("Oskar", "Oscar"), ("Karl", "Carl")],
        "female": [("Sophie", "Sofie"), ("Wiktoria", "Viktoria"), ("Aimee", "Amy"), ("Krystal", "Crystal"),
                   ("Katarina", "Catarina"), ("Zofia", "Sofia"), ("Steffi", "Stephie"), ("Ceri", "Kerry")],
        "family": [("Kowalczyk", "Kovalchik"), ("Phillips", "Filips"), ("Mahmoud", "Mahmud"),
                   ("Szymanski", "Shimanski"), ("Yousef", "Yusuf"), ("Kaur", "Cowr")],
    },
    "heldout": {
        "male": [("Kian", "Cian"), ("Rhys", "Reece"), ("Frederik", "Frederick"), ("Khalid", "Kalid"),
                 ("Ayoub", "Ayub"), ("Rashid", "Rasheed"), ("Nabil", "Nabeel"), ("Farouk", "Faruk"),
                 ("Theo", "Teo"), ("Louis", "Luis"), ("Jozef", "Yosef"), ("Wojtek", "Voytek"),
                 ("Kwaku", "Quaku"), ("Krzysztof", "Kristof"), ("Mateusz", "Matteus"), ("Jamal", "Djamal")],
        "female": [("Chloe", "Khloe"), ("Caitlin", "Kaitlyn"), ("Kasia", "Kasha"), ("Phoebe", "Febe"),
                   ("Aaliyah", "Aliya"), ("Jasmine", "Yasmin"), ("Zuzanna", "Susanna"), ("Layla", "Leila")],
        "family": [("Kaczmarek", "Kachmarek"), ("Wojcik", "Voytchik"), ("Oyelaran", "Oyelaren"),
                   ("Koroma", "Corroma"), ("Mahmood", "Mahmud"), ("Shah", "Sha")],
    },
    "fresh": {
        "male": [("Mikail", "Mikael"), ("Isaak", "Isaac"), ("Zakaria", "Zakariya"), ("Ilias", "Elias"),
                 ("Yannick", "Janik"), ("Nikolas", "Niklas"), ("Maksim", "Maxim"), ("Dominik", "Dominic"),
                 ("Filippo", "Philippo"), ("Tymon", "Timon")],
        "female": [("Katarzyna", "Katazina"), ("Jozefina", "Josephina"), ("Krystyna", "Christina"), ("Klara", "Clara"),
                   ("Karolina", "Caroline"), ("Weronika", "Veronika"), ("Natalija", "Natalia"), ("Sofiya", "Sophia")],
        "family": [("Kowalczyk", "Kowalchyk"), ("Nowakowski", "Novakovski"), ("Shevchenko", "Chevchenko"),
                   ("Mikhailov", "Mihailov"), ("Rahman", "Rahmaan"), ("Chowdhury", "Chaudhuri")],
    },
}
# Respellings applied to any name (as a language or the ear would write it).
RESPELLINGS = [("ph", "f"), ("f", "ph"), ("c", "k"), ("k", "c"), ("ou", "u"), ("u", "ou"), ("w", "v"), ("v", "w"),
               ("y", "i"), ("i", "y"), ("ee", "i"), ("ck", "k"), ("sz", "sh"), ("cz", "ch"), ("oo", "u"),
               ("th", "t"), ("ie", "y"), ("ey", "y"), ("ll", "l"), ("nn", "n"), ("ss", "s")]
ACCENTED = {"Zoe": "Zoë", "Chloe": "Chloé", "Jose": "José", "Renee": "Renée", "Noel": "Noël",
            "Ines": "Inês", "Bjorn": "Björn", "Lukasz": "Łukasz", "Zofia": "Zófia", "Sinead": "Sinéad"}
LONDON_GIVEN_ALL = {
    "male": ["Kwame", "Tyrone", "Jermaine", "Kofi", "Chidi", "Tobi", "Femi", "Dami", "Rashid", "Imran", "Bilal",
             "Hamza", "Ayaan", "Arjun", "Rohan", "Luca", "Mateo", "Kacper", "Jakub", "Darius", "Reuben", "Elijah",
             "Malik", "Andre", "Kai", "Theo", "Jude", "Ezra", "Ishaan", "Zain", "Abdirahman", "Chukwuemeka",
             "Oluwaseun", "Kwabena", "Yaw", "Kayode", "Tunde", "Emeka", "Ikenna", "Obinna", "Abdullahi", "Idris",
             "Musa", "Yahya", "Anas", "Ilyas", "Ravi", "Vikram", "Aarav", "Dev", "Marek", "Piotr", "Wojciech",
             "Tomasz", "Bartosz", "Mihai", "Andrei", "Ionut", "Luka", "Nikola", "Emre", "Mehmet", "Cem", "Kenji",
             "Duc", "Minh", "Santiago", "Diego", "Joao", "Tiago", "Kyrie", "Jaylen", "Tremaine", "Leon"],
    "female": ["Amara", "Chiamaka", "Ngozi", "Tiana", "Shanice", "Keisha", "Aaliyah", "Zara", "Imani", "Safiya",
               "Hafsa", "Amira", "Priya", "Ananya", "Maja", "Zuzanna", "Leila", "Yasmin", "Nia", "Esme", "Ruby",
               "Maisie", "Freya", "Ada", "Ivy", "Sienna", "Layla", "Mya", "Precious", "Blessing", "Adaeze",
               "Chidinma", "Folake", "Yetunde", "Abena", "Akosua", "Hodan", "Ifrah", "Sagal", "Khadra", "Ayan",
               "Nimco", "Sumaya", "Maryam", "Anaya", "Kavya", "Isha", "Oliwia", "Wiktoria", "Zofia", "Agnieszka",
               "Ioana", "Elif", "Zeynep", "Mei", "Linh", "Lucia", "Valentina", "Beatriz", "Chantelle", "Tanisha"],
}
LONDON_FAMILY_ALL = ["Okafor", "Adeyemi", "Mensah", "Boateng", "Owusu", "Campbell", "Thomas", "Ali", "Khan",
                     "Begum", "Hussain", "Rahman", "Patel", "Shah", "Singh", "Nowak", "Kowalski", "Silva", "Santos",
                     "Ahmed", "Osei", "Williams", "Brown", "Taylor", "Hughes", "Mohammed", "McDonald", "O'Brien",
                     "Chaudhry", "Nguyen", "Popescu", "Ivanova", "Hassan", "Abdi", "Warsame", "Yilmaz", "Demir",
                     "Okonkwo", "Eze", "Nwosu", "Adebayo", "Ogunleye", "Asante", "Appiah", "Farah", "Jama",
                     "Mohamud", "Omar", "Kaur", "Sharma", "Gupta", "Islam", "Uddin", "Miah", "Chowdhury", "Wisniewski",
                     "Wojcik", "Kaczmarek", "Lewandowska", "Ionescu", "Rossi", "Ferreira", "Oliveira", "Tran", "Le",
                     "Kaya", "Celik", "Mahmoud", "Siddiqui", "Qureshi", "Johnson", "Clarke", "Robinson", "Grant",
                     "Francis", "Henry", "Baptiste", "Joseph", "Edwards", "Bennett"]
KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def _half(names, which: str) -> list[str]:
    """One of two disjoint halves of a list of names, chosen by a stable hash
    ("fresh" draws its people from the held-out half)."""
    wanted = 0 if which == "tuning" else 1
    return sorted({n for n in names if zlib.crc32(n.lower().encode()) % 2 == wanted})


# The tuning halves, under the names other modules (bench.matching_speed) import.
NICKNAME_PAIRS = NICKNAME_PAIRS_BY_SET["tuning"]
TRANSLITERATION_PAIRS = TRANSLITERATION_PAIRS_BY_SET["tuning"]
FAMILY_SPELLINGS = FAMILY_SPELLINGS_BY_SET["tuning"]
LONDON_GIVEN = {gender: _half(names, "tuning") for gender, names in LONDON_GIVEN_ALL.items()}
LONDON_FAMILY = _half(LONDON_FAMILY_ALL, "tuning")


@dataclass(frozen=True)
class NameLists:
    """Every list of names the generator draws from, one half of each."""

    given: dict[str, list[str]]
    family: list[str]
    nicknames: dict[str, list[tuple[str, str]]]
    transliterations: dict[str, list[tuple[str, str]]]
    family_spellings: list[tuple[str, str]]
    short_forms: dict[str, list[tuple[str, str]]]
    spellings: dict[str, list[tuple[str, str]]]

    @classmethod
    def of(cls, which: str) -> "NameLists":
        if which not in NAME_SETS:
            raise ValueError(f"names must be one of {NAME_SETS}")
        from faker.providers.person.en_GB import Provider

        faker_given = {"male": Provider.first_names_male, "female": Provider.first_names_female}
        return cls(
            given={g: _half(list(faker_given[g]) + LONDON_GIVEN_ALL[g], which) for g in ("male", "female")},
            family=_half(list(Provider.last_names) + LONDON_FAMILY_ALL, which),
            nicknames=NICKNAME_PAIRS_BY_SET[which],
            transliterations=TRANSLITERATION_PAIRS_BY_SET[which],
            family_spellings=FAMILY_SPELLINGS_BY_SET[which],
            short_forms=SHORT_FORMS_BY_SET[which],
            spellings=OTHER_SPELLINGS_BY_SET[which],
        )


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
    family_of: str = ""  # the base record whose family this is (a twin, a sibling, a cousin)
    namesake_of: str = ""  # the base record whose name this other child shares


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


def _fold(name: str) -> str:
    from casework.matching import fold

    return "".join(fold(name).split())


def _same_name(a: str, b: str) -> bool:
    """Whether parents could not have meant two names for two children: the
    same name, a nickname or short form of it (the nicknames package and the
    lists above), or one slip apart. The generator's own rule, independent
    of the matcher's levels, so hard negatives are not chosen to suit it."""
    from nicknames import NickNamer
    from rapidfuzz.distance import OSA

    a, b = _fold(a), _fold(b)
    if a == b or OSA.distance(a, b) <= 1:
        return True
    namer = _namer()
    if b in namer.nicknames_of(a) or a in namer.nicknames_of(b):
        return True
    return frozenset((a, b)) in _listed_pairs()


_NAMER = None
_PAIRS: frozenset | None = None


def _namer():
    global _NAMER
    if _NAMER is None:
        from nicknames import NickNamer

        _NAMER = NickNamer()
    return _NAMER


def _listed_pairs() -> frozenset:
    global _PAIRS
    if _PAIRS is None:
        pairs = set()
        for lists in (NICKNAME_PAIRS_BY_SET, TRANSLITERATION_PAIRS_BY_SET, SHORT_FORMS_BY_SET, OTHER_SPELLINGS_BY_SET):
            for half in lists.values():
                for group in half.values():
                    pairs |= {frozenset((_fold(a), _fold(b))) for a, b in group}
        _PAIRS = frozenset(pairs)
    return _PAIRS


class Generator:
    def __init__(self, seed: int = SEED, names: str = "tuning"):
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.names = NameLists.of(names)
        area = self.rng.choice(["SE", "E", "N", "SW", "NW", "W", "CR", "BR", "IG", "RM", "HA", "UB", "TW", "EN"])
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        self._postcodes = sorted({
            f"{area}{district} {self.rng.randint(1, 9)}{self.rng.choice(letters)}{self.rng.choice(letters)}"
            for district in self.rng.sample(range(1, 60), 40) for _ in range(80)
        })
        self.serial = 0
        self.used_upns: set[str] = set()

    def rid(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def given(self, gender: str) -> str:
        return self.rng.choice(self.names.given[gender])

    def family(self) -> str:
        return self.rng.choice(self.names.family)

    def postcode(self) -> str:
        """A postcode in the borough: 40 districts of 80 postcodes each, so
        strangers share a postcode or a district about as often as a
        borough's young people do (a postcode anywhere in the UK never would)."""
        return self.rng.choice(self._postcodes)

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

    def _pair(self, pairs: dict[str, list[tuple[str, str]]], gender: str) -> tuple[str, str]:
        return self.rng.choice(pairs[gender])

    def base(self, category: str) -> Record:
        gender = self.rng.choice(["male", "female"])
        given = self.given(gender)
        family = self.family()
        preferred = ""
        names = self.names
        if category == "nickname":
            given, _ = self._pair(names.nicknames, gender)
        elif category == "transliteration":
            if self.rng.random() < 0.7:
                given, _ = self._pair(names.transliterations, gender)
            else:
                family, _ = self.rng.choice(names.family_spellings)
        elif category == "short_form":
            if self.rng.random() < 0.6:
                given, _ = self._pair(names.short_forms, gender)
            else:  # any long name, cut short
                given = self.rng.choice([n for n in names.given[gender] if len(n) >= 6])
        elif category == "other_spelling":
            roll = self.rng.random()
            if roll < 0.4:
                given, _ = self._pair(names.spellings, gender)
            elif roll < 0.55:
                family, _ = self.rng.choice(names.spellings["family"])
        elif category == "case_and_accents":
            given = self.rng.choice(list(ACCENTED))
        elif category == "hyphenated_surname" and self.rng.random() < 0.5:
            family = f"{self.family()}-{self.family()}"
        elif category == "double_barrelled_moved":
            family = f"{self.family()}{self.rng.choice(['-', ' '])}{self.family()}"
        elif category == "preferred_as_given":
            given, preferred = self._pair(names.nicknames, gender)
            preferred = self.rng.choice([preferred, self.rng.choice(["Jay", "Dee", "Kiki", "Tee", "Bee", "Smudge"])])
        if category == "case_and_accents" and given in ACCENTED and self.rng.random() < 0.5:
            given = ACCENTED[given]
        return Record(
            rid=self.rid("b"), identity=self.rid("i"), given_name=given, family_name=family,
            date_of_birth=self.dob(swappable=category in ("dob_day_month", "combined", "swapped_plus_slip")),
            postcode=self.postcode(), preferred_name=preferred, gender=gender,
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

    def dob_near(self, born: dt.date) -> dt.date:
        """A near miss: the day before or after, a few days or up to ten
        apart, or day and month both slightly off (12/10 for 02/10 is one
        of these too)."""
        while True:
            kind = self.rng.choice(["day_either_side", "days_apart", "days_apart", "both_off", "tens_of_day"])
            if kind == "day_either_side":
                changed = born + dt.timedelta(days=self.rng.choice([-1, 1]))
            elif kind == "days_apart":
                changed = born + dt.timedelta(days=self.rng.choice([-1, 1]) * self.rng.randint(2, 10))
            elif kind == "both_off":
                month = born.month + self.rng.choice([-1, 1])
                day = born.day + self.rng.choice([-2, -1, 1, 2])
                try:
                    changed = dt.date(born.year, month, day)
                except ValueError:
                    continue
            else:
                try:
                    changed = born.replace(day=(born.day + self.rng.choice([-10, 10])))
                except ValueError:
                    continue
            if changed != born and changed <= TODAY:
                return changed

    def short_form(self, name: str, gender: str) -> str:
        listed = dict(self.names.short_forms[gender])
        if name in listed:
            return listed[name]
        # Cut a long name short: three to five letters, sometimes with a
        # last consonant doubled ("Dann" for Daniel).
        cut = name[: self.rng.randint(3, min(5, len(name) - 2))]
        if self.rng.random() < 0.2 and cut[-1].lower() not in "aeiouy":
            cut += cut[-1]
        return cut

    def respell(self, name: str) -> str:
        """The name as another language or the ear would spell it."""
        lower = name.lower()
        rules = [(a, b) for a, b in RESPELLINGS if a in lower[1:] or (a in lower and a[0] in "ckfwvyj")]
        self.rng.shuffle(rules)
        for a, b in rules:
            at = lower.find(a, 1) if a in lower[1:] else lower.find(a)
            out = lower[:at] + b + lower[at + len(a):]
            if out != lower:
                return out.capitalize()
        return self.typo(name)

    def variant(self, base: Record, category: str) -> Record:
        r = replace(base, rid=self.rid("q"))
        # Another agency rarely has the identifiers the first one recorded.
        if self.rng.random() < 0.8:
            r = replace(r, unique_pupil_number="", nhs_number="")
        if self.rng.random() < 0.5:
            r = replace(r, school_id=None)
        if self.rng.random() < 0.3:
            r = replace(r, gender="")
        names = self.names
        if category == "exact":
            pass
        elif category == "typo_given":
            r = replace(r, given_name=self.typo(r.given_name))
        elif category == "typo_family":
            r = replace(r, family_name=self.typo(r.family_name))
        elif category == "nickname":
            pair = dict(names.nicknames["male"] + names.nicknames["female"])
            r = replace(r, given_name=pair.get(base.given_name, base.given_name))
        elif category == "transliteration":
            pairs = dict(names.transliterations["male"] + names.transliterations["female"])
            families = dict(names.family_spellings)
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
        elif category == "dob_near":
            # Everything else agrees: the same names and address.
            r = replace(r, date_of_birth=self.dob_near(base.date_of_birth), postcode=base.postcode)
        elif category == "short_form":
            r = replace(r, given_name=self.short_form(base.given_name, base.gender))
        elif category == "other_spelling":
            given = dict(names.spellings["male"] + names.spellings["female"])
            family = dict(names.spellings["family"])
            if base.given_name in given:
                r = replace(r, given_name=given[base.given_name])
            elif base.family_name in family:
                r = replace(r, family_name=family[base.family_name])
            elif self.rng.random() < 0.7:
                r = replace(r, given_name=self.respell(base.given_name))
            else:
                r = replace(r, family_name=self.respell(base.family_name))
        elif category == "swapped_plus_slip":
            slip = self.rng.choice(["typo_given", "typo_family", "dob_day_month", "dob_one_digit", "dob_near",
                                    "missing_postcode", "moved_house", "nickname"])
            if slip == "dob_near":
                r = replace(r, date_of_birth=self.dob_near(base.date_of_birth))
            elif slip == "moved_house":
                r = replace(r, postcode=self.postcode())
            else:
                r = replace(self.variant(r, slip), rid=r.rid)
            r = replace(r, given_name=r.family_name, family_name=r.given_name)
        elif category in ("hyphenated_surname", "double_barrelled_moved"):
            parts = base.family_name.replace("-", " ").split()
            if len(parts) > 1:
                a, b = parts[0], parts[-1]
                choices = [a, b] if category == "double_barrelled_moved" else [a, b, f"{a} {b}"]
                r = replace(r, family_name=self.rng.choice(choices))
            else:
                r = replace(r, family_name=f"{base.family_name}-{self.family()}")
            if category == "double_barrelled_moved":
                r = replace(r, postcode=self.postcode())
        elif category == "missing_postcode":
            r = replace(r, postcode="")
        elif category == "moved_house":
            r = replace(r, postcode=self.postcode(), given_name=self.rng.choice([r.given_name, self.typo(r.given_name)]))
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
        taken = [base.given_name] + ([base.preferred_name] if base.preferred_name else [])
        while True:
            candidate = self.given(gender)
            # Parents do not give twins or siblings the same name, or one a
            # nickname, short form or one-letter variation of the other.
            if not any(_same_name(candidate, t) for t in taken):
                return candidate

    def unrelated_dob(self, born: dt.date, *, within_years: int) -> dt.date:
        from casework.matching import _dob_key

        while True:
            other = born + dt.timedelta(days=self.rng.randint(-365 * within_years, 365 * within_years))
            a, b = _dob_key(born), _dob_key(other)
            one_slip = sum(x != y for x, y in zip(a, b)) <= 1 or (born.year == other.year and born.month == other.day
                                                                    and born.day == other.month)
            if other <= TODAY and abs((other - born).days) > 300 and not one_slip:
                return other

    def negative(self, base: Record, category: str) -> Record:
        gender = self.rng.choice(["male", "female"])
        common = dict(
            rid=self.rid("n"), identity=self.rid("i"), gender=gender, family_of=base.rid,
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
                          postcode=self.postcode(), **common)
        if category in ("namesake", "namesake_near"):
            # A common name elsewhere: years apart, or born within a few
            # weeks of the other, which only the address tells apart.
            if category == "namesake_near":
                born = base.date_of_birth + dt.timedelta(days=self.rng.choice([-1, 1]) * self.rng.randint(1, 30))
                born = min(born, TODAY)
            else:
                born = self.unrelated_dob(base.date_of_birth, within_years=6)
            return Record(given_name=base.given_name, family_name=base.family_name, date_of_birth=born,
                          postcode=self.postcode(), gender=base.gender, rid=common["rid"],
                          identity=common["identity"], namesake_of=base.rid)
        raise ValueError(category)  # pragma: no cover


def build(families: int = 2000, *, seed: int = SEED, names: str = "tuning", near_namesakes: bool = True) -> EvalSet:
    """The labelled set: ``families`` base records, one variant query of each
    (the classes in turn), and hard negatives for about 60% of them (half
    indexed, half queried), from one half of the name lists."""
    gen = Generator(seed, names)
    index: list[Record] = []
    queries: list[Query] = []
    roles: dict[str, str] = {}
    for n in range(families):
        category = VARIANT_CATEGORIES[n % len(VARIANT_CATEGORIES)]
        base = gen.base(category)
        index.append(base)
        roles[base.rid] = "base"
        queries.append(Query(gen.variant(base, category), category, base.rid))
        for negative_category, chance in (("twin", 0.2), ("sibling", 0.2), ("namesake", 0.1), ("cousin", 0.1),
                                          ("namesake_near", 0.03)):
            if gen.rng.random() < chance:
                if negative_category == "namesake_near" and not near_namesakes:
                    continue
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


class Blocks:
    """The blocking index of an evaluation set, as the database would hold it."""

    def __init__(self, index: list[Record]):
        from casework import matching

        self.records = index
        self.details = [_details(r) for r in index]
        self.keys: dict[str, set[int]] = defaultdict(set)
        self.identifiers: dict[str, int] = {}
        for i, record in enumerate(index):
            for key in matching.match_keys(record.given_name, record.family_name, record.preferred_name,
                                           record.date_of_birth, record.postcode):
                self.keys[key].add(i)
            for value in (record.unique_pupil_number, record.nhs_number):
                if value:
                    self.identifiers[value] = i

    def candidates(self, query) -> set[int]:
        """The rows ``find_candidates`` would fetch for these details."""
        from casework import matching

        found: set[int] = set()
        for key in matching.query_keys(query, today=TODAY):
            found |= self.keys.get(key, set())
        for value in (query.unique_pupil_number, query.nhs_number):
            if value in self.identifiers:
                found.add(self.identifiers[value])
        return found


def candidate_pairs(data: EvalSet):
    """Every (query details, record details, truth) pair the blocking step
    puts in front of the comparison: what the weights are fitted on. The
    truth is "m" (one person), "h" (one family: a twin, sibling or cousin
    of the other), "n" (a namesake of the other) or "u" (another child)."""
    blocks = Blocks(data.index)
    for query in data.queries:
        qd = _details(query.record)
        base = query.record.family_of or query.record.namesake_of or query.expected
        for i in blocks.candidates(qd):
            record = data.index[i]
            related = base and base in (record.rid, record.family_of, record.namesake_of)
            if record.rid == query.expected:
                truth = "m"
            elif related and (query.record.namesake_of or record.namesake_of):
                truth = "n"
            elif related:
                truth = "h"
            else:
                truth = "u"
            yield qd, blocks.details[i], truth


@dataclass
class ClassFigures:
    queries: int = 0
    expected: int = 0  # queries with a true record in the index
    found: int = 0  # the true record at or above the threshold
    in_band: int = 0  # the true record shown to the hub (review band or above, among the best RESULT_LIMIT)
    false_matches: int = 0  # other records at or above the threshold
    false_in_band: int = 0  # other records shown to the hub as possible (below the threshold)

    @property
    def recall(self) -> float | None:
        return self.found / self.expected if self.expected else None

    @property
    def band_recall(self) -> float | None:
        return self.in_band / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        """Of the records put forward as likely for this class's queries, the
        share that were the person (none for a hard negative: every record
        put forward is a false match, counted in ``false_matches``)."""
        if not self.expected:
            return None
        predicted = self.found + self.false_matches
        return self.found / predicted if predicted else 1.0

    def as_dict(self) -> dict:
        rounded = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {
            "queries": self.queries, "recall": rounded(self.recall), "precision": rounded(self.precision),
            "review_band_recall": rounded(self.band_recall), "false_matches": self.false_matches,
            "missed": self.expected - self.found, "missed_by_band": self.expected - self.in_band,
            "possible_shown": self.false_in_band,
        }


@dataclass
class Report:
    families: int
    seed: int
    names: str
    index_size: int
    queries: int
    threshold: float
    review_threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    in_band: int
    per_class: dict[str, ClassFigures]
    false_by_role: dict[str, int]
    max_block: int

    @property
    def recall(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else 1.0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def band_recall(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.in_band / found if found else 1.0

    # The old name of the per-class error counts.
    @property
    def errors(self) -> dict[str, dict[str, int]]:
        return {
            name: {"missed": c.expected - c.found, "false_match": c.false_matches}
            for name, c in self.per_class.items() if c.expected - c.found or c.false_matches
        }

    def as_dict(self) -> dict:
        return {
            "families": self.families, "seed": self.seed, "names": self.names, "index_size": self.index_size,
            "queries": self.queries, "threshold": self.threshold, "review_threshold": self.review_threshold,
            "recall": round(self.recall, 4), "precision": round(self.precision, 4),
            "review_band_recall": round(self.band_recall, 4),
            "true_positives": self.true_positives, "false_positives": self.false_positives,
            "false_negatives": self.false_negatives, "max_block": self.max_block,
            "false_matches_with_indexed_negatives": self.false_by_role,
            "per_class": {name: c.as_dict() for name, c in self.per_class.items()},
        }

    def markdown(self) -> str:
        lines = [
            f"Names: {self.names}, seed {self.seed}, {self.families:,} families, {self.index_size:,} records indexed, "
            f"{self.queries:,} queries; threshold {self.threshold}, review band from {self.review_threshold}.",
            "",
            "| class | queries | recall | precision | recall in review band | missed | false matches | shown as possible |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        fmt = lambda v: "–" if v is None else f"{v:.4f}"  # noqa: E731
        for name, c in self.per_class.items():
            lines.append(
                f"| {name} | {c.queries} | {fmt(c.recall)} | {fmt(c.precision)} | {fmt(c.band_recall)} | "
                f"{c.expected - c.found} | {c.false_matches} | {c.false_in_band} |"
            )
        lines.append(
            f"| **all** | {self.queries} | {self.recall:.4f} | {self.precision:.4f} | {self.band_recall:.4f} | "
            f"{self.false_negatives} | {self.false_positives} | |"
        )
        return "\n".join(lines)


def evaluate(
    families: int = 2000, *, seed: int = SEED, names: str = "tuning", threshold: float | None = None,
    review_threshold: float | None = None, verbose: bool = False, near_namesakes: bool = True,
) -> Report:
    from casework import matching

    threshold = matching.MATCH_THRESHOLD if threshold is None else threshold
    review_threshold = matching.REVIEW_THRESHOLD if review_threshold is None else review_threshold
    data = build(families, seed=seed, names=names, near_namesakes=near_namesakes)
    blocks = Blocks(data.index)
    per_class = {name: ClassFigures() for name in VARIANT_CATEGORIES + NEGATIVE_CATEGORIES + EXTRA_NEGATIVE_CATEGORIES}
    false_by_role: Counter = Counter()
    tp = fp = fn = in_band = 0
    max_block = 0
    for query in data.queries:
        figures = per_class[query.category]
        figures.queries += 1
        qd = _details(query.record)
        found = blocks.candidates(qd)
        max_block = max(max_block, len(found))
        scored = sorted(
            ((matching.compare(qd, blocks.details[i]), data.index[i].rid) for i in found),
            key=lambda pair: -pair[0].score,
        )
        shown = [(c, rid) for c, rid in scored if c.score >= review_threshold][: matching.RESULT_LIMIT]
        predicted = {rid for c, rid in scored if c.score >= threshold}
        if query.expected is not None:
            figures.expected += 1
            if query.expected in predicted:
                tp += 1
                figures.found += 1
            else:
                fn += 1
            if any(rid == query.expected for _, rid in shown):
                in_band += 1
                figures.in_band += 1
            elif verbose:
                print("OUT OF BAND", query.category, query.record, file=sys.stderr)
            if verbose and query.expected not in predicted:
                base = next(r for r in data.index if r.rid == query.expected)
                hit = next((c for c, rid in scored if rid == query.expected), None)
                print("MISS", query.category, query.record, base, hit, file=sys.stderr)
        for c, rid in scored:
            if rid == query.expected:
                continue
            if c.score >= threshold:
                fp += 1
                figures.false_matches += 1
                role = data.roles.get(rid, "base")
                if role != "base":
                    false_by_role[f"{role} (in index)"] += 1
                if verbose:
                    other = next(r for r in data.index if r.rid == rid)
                    print("FALSE", query.category, query.record, other, c, file=sys.stderr)
            elif c.score >= review_threshold:
                figures.false_in_band += 1
    return Report(
        families=families, seed=seed, names=names, index_size=len(data.index), queries=len(data.queries),
        threshold=threshold, review_threshold=review_threshold, true_positives=tp, false_positives=fp,
        false_negatives=fn, in_band=in_band, per_class=per_class, false_by_role=dict(false_by_role),
        max_block=max_block,
    )


def setup_django() -> None:
    # The evaluation needs Django's settings but never a database connection.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1:1/unused")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--names", choices=NAME_SETS, default="tuning",
                        help="which half of the name lists: tuning, or held out from tuning")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--review-threshold", type=float, default=None)
    parser.add_argument("--no-near-namesakes", action="store_true",
                        help="leave out the namesakes born days or weeks apart (outside the targets)")
    parser.add_argument("--markdown", action="store_true", help="print the per-class table instead of JSON")
    parser.add_argument("--verbose", action="store_true", help="print every error to stderr")
    args = parser.parse_args(argv)
    setup_django()
    report = evaluate(args.families, seed=args.seed, names=args.names, threshold=args.threshold,
                      review_threshold=args.review_threshold, verbose=args.verbose,
                      near_namesakes=not args.no_near_namesakes)
    print(report.markdown() if args.markdown else json.dumps(report.as_dict(), indent=2))


if __name__ == "__main__":
    main()
