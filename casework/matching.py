"""Finding a young person the partnership may already know.

Three agencies spell the same boy three ways. This module finds likely
existing records for the details given at intake or screening, scores each
one with reasons a screener can read, and applies the privacy rule.

How the search works
--------------------
1. **Blocking.** A database trigger (migration ``0002_young_person_matching``)
   keeps ``YoungPersonMatchKey`` rows for every young person:
   ``d<date of birth>:<code>`` for each name token (given, family and
   preferred), ``i<date of birth>:<initials>`` and
   ``b<date of birth>:<given code>:<family code>`` for each pair of given
   and family tokens, and ``p<postcode>:<code>`` for each family-name token.
   A code is the token folded to a-z (accents and apostrophes dropped), with
   a few spellings merged (ph/f, c/k/q, x/ks, doubled letters) and the
   vowels after the first letter dropped: Mohammed, Muhammad and Mohamed are
   all ``mmd``. The query probes, for the date of birth as given (and with
   day and month swapped, the commonest slip), any one
   name code (so a typo in one name, swapped names or one part of a
   hyphenated surname still finds the record) and the initials (slips in
   both names); for every date the given one could be a slip of (day and
   month swapped, one digit wrong, two neighbouring digits transposed) the
   given-and-family pairs, in both orders and with the hand-made groups'
   forms, so a common surname does not fetch hundreds of rows; for every
   date near it (up to ``NEAR_DAYS`` apart, or day and month each slightly
   off) the pairs of the names as typed, in both orders; and the postcode
   keys. A few hundred probes of one btree index. Unique pupil number and
   NHS number are looked up exactly on their own unique indexes.
2. **Scoring.** Each candidate is compared field by field
   (``compare_levels``): given and family names (exact; a nickname, from
   the ``nicknames`` package, or a transliteration, from the hand-made
   groups below; one or two typing slips, by rapidfuzz's edit distance;
   spelt differently but sounding alike, across languages; one a short
   form or part of the other; one part of a double-barrelled name; swapped;
   and a given name that differs while the family name agrees, which is
   what twins and siblings look like), the date of birth (exact, day and
   month swapped, one digit, two digits transposed, days apart, near),
   postcode, school, gender and identifiers. The levels are weighed with
   Fellegi and Sunter's model fitted on data (``casework.match_weights``):
   the score is the log2 likelihood ratio, in bits, of "one person" against
   "two children of one family" and "two other children", so a twin agreeing
   on everything but a given name scores low while a slip in one field
   does not. ``explain`` gives the reasons in words.
3. **Privacy.** ``young_person_candidates`` applies the rule of issue 7 on
   top of ``safeguarding.access.visible_young_people``, the only source of
   who may be seen, and writes the search to the access log.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from django.utils import timezone
from nicknames import NickNamer
from rapidfuzz.distance import OSA

from casework import match_weights
from lib.errors import DomainError
from referrals.models import YoungPerson, YoungPersonMatchKey, YoungPersonMerge
from safeguarding import access
from safeguarding.access import Actor

# ---------------------------------------------------------------------------
# Normalisation (mirrors the SQL functions of migration 0002 exactly)
# ---------------------------------------------------------------------------

_FOLD_FROM = (
    "ÀÁÂÃÄÅĀĂĄàáâãäåāăąÇĆĈĊČçćĉċčĎĐďđÈÉÊËĒĔĖĘĚèéêëēĕėęěĜĞĠĢĝğġģĤĦĥħÌÍÎÏĨĪĬĮİìíîïĩīĭįıĴĵĶķ"
    "ĹĻĽĿŁĺļľŀłÑŃŅŇñńņňÒÓÔÕÖØŌŎŐòóôõöøōŏőŔŖŘŕŗřŚŜŞŠȘśŝşšșŢŤŦȚţťŧțÙÚÛÜŨŪŬŮŰŲùúûüũūŭůűųŴŵÝŸŶýÿŷŹŻŽźżž"
)
_FOLD_TO = (
    "aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkk"
    "llllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz"
)
_FOLD_DROP = "'’`ʼ‘"
_FOLD_TABLE = str.maketrans(_FOLD_FROM, _FOLD_TO, _FOLD_DROP)
_FOLD_MULTI = (("ß", "ss"), ("Æ", "ae"), ("æ", "ae"), ("Œ", "oe"), ("œ", "oe"), ("Þ", "th"), ("þ", "th"))
_NOT_LETTERS = re.compile(r"[^a-z]+")
_SQUEEZE = re.compile(r"(.)\1+")
_SOFT = re.compile(r"[aeiouyhw]")
_NOT_POSTCODE = re.compile(r"[^A-Za-z0-9]")


def fold(value: str | None) -> str:
    """Accents and apostrophes dropped, lower case (``crossroads_match_fold``)."""
    value = value or ""
    for source, target in _FOLD_MULTI:
        value = value.replace(source, target)
    return value.translate(_FOLD_TABLE).lower()


def tokens(value: str | None) -> list[str]:
    """The words of a name, folded: "O'Brien-Smith" -> ["obrien", "smith"]."""
    return [t for t in _NOT_LETTERS.split(fold(value)) if t]


def name_code(token: str) -> str:
    """A spelling-tolerant code of one folded token (``crossroads_match_code``)."""
    t = token.replace("ph", "f").replace("ck", "k").replace("x", "ks").replace("q", "k").replace("c", "k")
    t = _SQUEEZE.sub(r"\1", t)
    return t[:1] + _SQUEEZE.sub(r"\1", _SOFT.sub("", t[1:]))


def postcode_key(postcode: str | None) -> str:
    return _NOT_POSTCODE.sub("", postcode or "").upper()


def _dob_key(born: dt.date) -> str:
    # Not strftime: "%Y" is not zero-padded below year 1000 on Linux, and the
    # key must always have eight digits (as PostgreSQL's to_char gives).
    return f"{born.year:04d}{born.month:02d}{born.day:02d}"


def match_keys(given: str, family: str, preferred: str, born: dt.date | None, postcode: str) -> set[str]:
    """The keys the database trigger stores for a record (``crossroads_match_keys``)."""
    name_codes = {name_code(t) for t in tokens(f"{fold(given)} {fold(preferred)}") if len(t) >= 2}
    family_codes = {name_code(t) for t in tokens(family) if len(t) >= 2}
    keys: set[str] = set()
    if born is not None:
        keys |= {f"d{_dob_key(born)}:{c}" for c in name_codes | family_codes}
    pc = postcode_key(postcode)
    if pc:
        keys |= {f"p{pc}:{c}" for c in family_codes}
    if born is not None:
        day = _dob_key(born)
        keys |= {f"i{day}:{g[:1]}{f[:1]}" for g in name_codes for f in family_codes}
        keys |= {f"b{day}:{g}:{f}" for g in name_codes for f in family_codes}
    return keys


# ---------------------------------------------------------------------------
# Nicknames and transliterations of common UK given names
# ---------------------------------------------------------------------------

# Each line is one group of names people use for the same person. A name may
# sit in more than one group (Sam, Alex): groups are joined by any shared name
# only when comparing two names, never merged into one big group.
NAME_GROUPS_TEXT = """
william bill billy will willy liam wills
robert bob bobby rob robbie robby bert
richard rich richie rick ricky dick
edward ed eddie eddy ted teddy ned
thomas tom tommy thom
james jim jimmy jamie jay jimi
john jack johnny jon jonny
jonathan jon jonny jonty nathan
joseph joe joey jo
joshua josh
michael mike mikey mick micky mickey michal mikhail mikael mykhailo
christopher chris kit topher
nicholas nick nicky nico
daniel dan danny dani
david dave davey dai dawid
anthony tony ant antony anton
andrew andy drew andrei andrzej
alexander alex alexandr aleksandr aleksander alexandre sasha xander sandy alec alek oleksandr
alexandra alex alexa lexi sasha sandra
benjamin ben benji benny
samuel sam sammy
samantha sam sammie sammy
charles charlie chas chaz
charlotte charlie lottie lotte
matthew matt matty mateusz matteo
nathaniel nathan nate nat
oliver ollie olly
henry harry hal hank
frederick fred freddie freddy
stephen steven steve stevie stefan
peter pete piotr pedro
patrick pat paddy
timothy tim timmy
zachary zach zack zak
gabriel gabe
kieran kez kiaran ciaran
kerry kez keri kerri
elizabeth liz lizzie lizzy beth betty eliza libby elisabeth
katherine kate katie kath kathryn catherine cathy kat kitty caitlin
rebecca becky becca bex
jessica jess jessie
abigail abi abby abbie
olivia liv livvy
victoria vicky vikki tori
jennifer jen jenny
margaret maggie meg peggy
isabella bella izzy issy isabel isabelle
eleanor ellie nell nora elinor
amelia millie amy
emily em emmy
mohammed muhammad mohamed mohammad muhammed mohamad mo moe mohd mahammad
ahmed ahmad ahmet
yusuf yousef youssef yusef yousuf
ibrahim ebrahim ibraheem
mustafa mustapha mostafa
hussein husain hussain hossein husayn
omar umar
abdullah abdulla abdallah
fatima fatimah fatma
aisha ayesha aysha aishah ayesa
mariam maryam miriam
zainab zaynab
khadija khadijah
sean shaun shawn shaune
siobhan shivaun chevonne
niamh neve neeve
dmitri dmitry dimitri
sergei sergey serhiy
yuri yury iurii
oluwaseun seun
oluwatobi tobi
temitope tope temi
ayodele ayo
olusegun segun
adebayo bayo
jayden jaden jaiden jaydon
aidan aiden ayden
katarzyna kasia kasha
aimee amy amie
malgorzata gosia
aleksandra ola
zofia zosia
wojciech wojtek
krzysztof krzys krzysiek
agnieszka aga
jozef jozek
mykola mikola nikolai nikolay
oleksandr sasha
olena elena yelena helena
yevgeny evgeny yevgeniy
"""


def _load_groups(text: str) -> dict[str, frozenset[str]]:
    by_name: dict[str, set[str]] = {}
    for line in text.strip().splitlines():
        group = {fold(n) for n in line.split()}
        for name in group:
            by_name.setdefault(name, set()).update(group)
    return {name: frozenset(group) for name, group in by_name.items()}


NAME_GROUPS = _load_groups(NAME_GROUPS_TEXT)


# English short forms come from the ``nicknames`` package (a curated list of
# about 2,700 name and nickname pairs): a name and its nicknames, and a
# nickname and the names it is short for. Only direct pairs: two nicknames
# of one name ("Ron" of Aaron and of Veronica) are not taken as each other.
_NICKNAMER = NickNamer()


def _grouped_forms(token: str) -> frozenset[str]:
    return NAME_GROUPS.get(token, frozenset()) | {token}


@functools.lru_cache(maxsize=65536)
def name_forms(token: str) -> frozenset[str]:
    """The token with its nicknames and transliterations."""
    english = _NICKNAMER.nicknames_of(token) | _NICKNAMER.canonicals_of(token)
    return NAME_GROUPS.get(token, frozenset()) | {fold(n) for n in english if n.isalpha()} | {token}


# ---------------------------------------------------------------------------
# Dates of birth
# ---------------------------------------------------------------------------

DOB_EXACT = "exact"
DOB_SWAPPED = "day_month_swapped"
DOB_ONE_DIGIT = "one_digit"
DOB_TRANSPOSED = "digits_transposed"
DOB_DAYS_APART = "days_apart"  # one to three days apart
DOB_NEAR = "near"  # up to NEAR_DAYS apart, or day and month each slightly off
NEAR_DAYS = 10


def _date_from_digits(digits: str) -> dt.date | None:
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def dob_relation(a: dt.date, b: dt.date) -> str | None:
    """How two dates of birth could be one date typed twice, or None."""
    if a == b:
        return DOB_EXACT
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return DOB_SWAPPED
    x, y = _dob_key(a), _dob_key(b)
    diff = [i for i in range(8) if x[i] != y[i]]
    if len(diff) == 1:
        return DOB_ONE_DIGIT
    if len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]:
        return DOB_TRANSPOSED
    apart = abs((a - b).days)
    if apart <= 3:
        return DOB_DAYS_APART
    if apart <= NEAR_DAYS or (a.year == b.year and abs(a.month - b.month) == 1 and abs(a.day - b.day) <= 3):
        return DOB_NEAR
    return None


def near_dates(born: dt.date) -> set[dt.date]:
    """The dates ``dob_relation`` calls days apart or near, other than ``born``."""
    found: set[dt.date] = set()
    for n in range(-NEAR_DAYS, NEAR_DAYS + 1):
        try:
            found.add(born + dt.timedelta(days=n))
        except OverflowError:  # within days of the first or last date there is
            continue
    found.discard(born)
    for month in (born.month - 1, born.month + 1):
        for day in range(born.day - 3, born.day + 4):
            try:
                found.add(dt.date(born.year, month, day))
            except ValueError:
                continue
    return found


def dob_variants(born: dt.date, *, today: dt.date | None = None) -> set[dt.date]:
    """Every plausible date the given one could be a slip of (see ``dob_relation``)."""
    today = today or timezone.localdate()
    earliest = today.replace(year=today.year - 40) if not (today.month == 2 and today.day == 29) else dt.date(today.year - 40, 2, 28)
    found = {born}
    digits = _dob_key(born)
    candidates: list[str] = []
    for i in range(8):
        for d in "0123456789":
            if d != digits[i]:
                candidates.append(digits[:i] + d + digits[i + 1:])
    for i in range(7):
        candidates.append(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    candidates.append(digits[:4] + digits[6:] + digits[4:6])
    for text in candidates:
        when = _date_from_digits(text)
        if when is not None and earliest <= when <= today:
            found.add(when)
    return found


# ---------------------------------------------------------------------------
# Comparing two sets of details
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """The details compared: a query, or a record. Names are kept raw and folded."""

    given_name: str = ""
    family_name: str = ""
    preferred_name: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""
    school_id: int | None = None
    gender: str = ""
    unique_pupil_number: str = ""
    nhs_number: str = ""

    # Worked out once per record: a search compares each record's names many
    # times. (cached_property writes the instance's __dict__ directly, so it
    # works on a frozen dataclass and takes no part in equality.)
    @functools.cached_property
    def given_tokens(self) -> list[str]:
        given = tokens(self.given_name)
        return given + [t for t in tokens(self.preferred_name) if t not in given]

    @functools.cached_property
    def family_tokens(self) -> list[str]:
        return tokens(self.family_name)

    @classmethod
    def of(cls, young_person: YoungPerson) -> "Details":
        return cls(
            given_name=young_person.given_name,
            family_name=young_person.family_name,
            preferred_name=young_person.preferred_name,
            date_of_birth=young_person.date_of_birth,
            postcode=young_person.postcode,
            school_id=young_person.school_id,
            gender=young_person.gender,
            unique_pupil_number=young_person.unique_pupil_number,
            nhs_number=young_person.nhs_number,
        )


def query_keys(details: Details, *, today: dt.date | None = None) -> set[str]:
    """The blocking keys to probe for these details (any one is enough)."""
    def forms(name_tokens: list[str], known=name_forms) -> set[str]:
        return {name_code(form) for t in name_tokens if len(t) >= 2 for form in known(t) if len(form) >= 2}

    given_codes, family_codes = forms(details.given_tokens), forms(details.family_tokens)
    codes = given_codes | family_codes
    # Pairs of both names for the slips of the date: with the hand-made
    # groups' forms only (the English nicknames would multiply forty dates
    # by a dozen forms; a nickname is found on the date as given).
    grouped_given = forms(details.given_tokens, _grouped_forms)
    grouped_family = forms(details.family_tokens, _grouped_forms)
    # Both orders: the given and family names may have been swapped.
    pairs = {(g, f) for g in grouped_given for f in grouped_family} | {
        (f, g) for g in grouped_given for f in grouped_family
    }
    keys: set[str] = set()
    if details.date_of_birth is not None:
        born = details.date_of_birth
        near = {born}
        if born.day <= 12 and born.day != born.month:
            near.add(dt.date(born.year, born.day, born.month))  # the commonest slip
        # The date as given (or day and month swapped): any one name token,
        # or both initials, is enough.
        for when in near:
            day = _dob_key(when)
            keys |= {f"d{day}:{c}" for c in codes}
            keys |= {f"i{day}:{g[:1]}{f[:1]}" for g, f in pairs}
        # Other slips of the date: both names must agree (one probe per pair
        # and date), or a common surname times forty dates would fetch hundreds.
        variants = dob_variants(born, today=today) - near
        for when in variants:
            other = _dob_key(when)
            keys |= {f"b{other}:{g}:{f}" for g, f in pairs}
        # Near misses of the date (days apart, day and month each slightly
        # off) with both names as typed, in either order: a few dozen
        # dates, and a pair on one date finds a handful of rows at most.
        own_given = {name_code(t) for t in details.given_tokens if len(t) >= 2}
        own_family = {name_code(t) for t in details.family_tokens if len(t) >= 2}
        own_pairs = {(g, f) for g in own_given for f in own_family} | {(f, g) for g in own_given for f in own_family}
        for when in near_dates(born) - variants - near:
            other = _dob_key(when)
            keys |= {f"b{other}:{g}:{f}" for g, f in own_pairs}
    pc = postcode_key(details.postcode)
    if pc:
        keys |= {f"p{pc}:{c}" for c in codes}
    return keys


# Levels of agreement between two names, strongest first.
EXACT, NICKNAME, TYPO, PHONETIC, SHORT, PART, NONE = "exact", "nickname", "typo", "phonetic", "short_form", "part", "none"

# How another language or the ear spells the same sound (applied in order
# to a folded token): Kacper and Casper, Yusuf and Yousuf, Szymon and Shimon,
# Wiktoria and Viktoria, Sophie and Sofie, Khalid and Kalid. Written for
# the comparison only: the stored keys (``name_code``) do not change.
_SPELLING_RULES = (
    ("sch", "sh"), ("tch", "ch"), ("dj", "j"), ("ph", "f"), ("ck", "k"), ("sz", "sh"), ("cz", "ch"),
    ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("qu", "kv"), ("q", "k"), ("x", "ks"), ("w", "v"),
    ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ea", "i"), ("ey", "i"), ("ay", "ai"), ("ei", "ai"), ("oe", "e"),
)
_SOFT_C = re.compile(r"c(?=[eiy])")
_CH_HARD = re.compile(r"ch(?=[rlnm])|^ch(?=[rl])")  # Christian, Chloe: a k
_FINAL_YE = re.compile(r"(?<=[^aeiou])ye$")  # Kye, Skye: as Kai


@functools.lru_cache(maxsize=65536)
def spelling_keys(token: str) -> frozenset[str]:
    """The ways a folded token may sound: a c before e, i or y read hard
    (Cian, Ceri: Kian, Kerry) and soft (Reece: Rhys)."""
    return frozenset({spelling_key(token), spelling_key(_SOFT_C.sub("s", token))})


@functools.lru_cache(maxsize=65536)
def spelling_key(token: str) -> str:
    """A folded token as it sounds, whichever language spelt it."""
    t = _FINAL_YE.sub("ai", token)
    t = _CH_HARD.sub("k", t)
    if t.startswith("j") and len(t) > 1 and t[1] in "aeiou":
        t = "y" + t[1:]  # Jakub, Jozef, Jasmin: Yakub, Yosef, Yasmin
    for source, target in _SPELLING_RULES:
        t = t.replace(source, target)
    t = t.replace("c", "k").replace("y", "i").replace("ie", "i")
    t = re.sub(r"(?<=[^aeiou])h", "", t)  # Rhys, Fatimah, Sarah
    t = _SQUEEZE.sub(r"\1", t)
    if len(t) > 3 and t.endswith("e"):
        t = t[:-1]  # Sophie, Sofi
    return t


_DIMINUTIVE_END = re.compile(r"(ie|[aeiouy])$")


# Each name is met many times over against others: its squeezed form and
# stem are worked out once (the search's time is mostly spent here).
@functools.lru_cache(maxsize=65536)
def _squeezed(token: str) -> str:
    return _SQUEEZE.sub(r"\1", token)


@functools.lru_cache(maxsize=65536)
def _stem(squeezed: str) -> str:
    return _DIMINUTIVE_END.sub("", squeezed)


def _is_short_form(a: str, b: str) -> bool:
    """One name a short form of the other: a prefix of three letters or more
    (Eli, Elijah; Abdi, Abdirahman; Dann, Daniel), or the end of four or more
    (Emeka, Chukwuemeka; Seun, Oluwaseun), as written or as it sounds."""
    short, long = sorted((a, b), key=len)
    squeezed_short, squeezed_long = _squeezed(short), _squeezed(long)
    # A short form often ends in a vowel of its own: Gabi for Gabriella,
    # Dougie for Douglas, Wendy for Chinwendu.
    stem = _stem(squeezed_short)
    if len(squeezed_long) - len(stem) < 2:
        return False
    if len(stem) >= 3 and stem != squeezed_short and squeezed_long.startswith(stem):
        return True
    if len(squeezed_long) - len(squeezed_short) < 2:
        return False
    if len(squeezed_short) >= 3 and squeezed_long.startswith(squeezed_short):
        return True
    if len(short) >= 4 and long.endswith(short):
        return True
    # Or the middle of a long name: Dami for Oluwadamilola, Wendy for Chinwendu.
    if len(squeezed_long) >= 7 and (
        (len(squeezed_short) >= 4 and squeezed_short in squeezed_long) or (len(stem) >= 4 and stem in squeezed_long)
    ):
        return True
    sound_short, sound_long = spelling_key(short), spelling_key(long)
    return len(sound_short) >= 3 and len(sound_long) > len(sound_short) and sound_long.startswith(sound_short)


@functools.lru_cache(maxsize=65536)
def _token_level(a: str, b: str) -> str:
    # Pure, and names repeat (the query's against every record's, common
    # names across searches): remembered per process, bounded.
    if a == b:
        return EXACT
    if b in name_forms(a) or a in name_forms(b):
        return NICKNAME
    longest = max(len(a), len(b))
    distance = OSA.distance(a, b, score_cutoff=3)
    if (distance == 1 and longest >= 4) or (distance == 2 and longest >= 8):
        return TYPO
    # (Not the blocking code alone: Hassan and Hussein share it, and are
    # twins' names as often as one name spelt twice.)
    for sound_a in spelling_keys(a):
        for sound_b in spelling_keys(b):
            if sound_a == sound_b or (
                min(len(sound_a), len(sound_b)) >= 4 and OSA.distance(sound_a, sound_b, score_cutoff=1) <= 1
            ):
                return PHONETIC
    if _is_short_form(a, b):
        return SHORT
    return NONE


_LEVEL_ORDER = {EXACT: 0, NICKNAME: 1, TYPO: 2, PHONETIC: 3, SHORT: 4, PART: 5, NONE: 6}


def _names_level(left: list[str], right: list[str], *, whole_left: str = "", whole_right: str = "") -> str:
    """The best agreement between any token of one name and any of the other.

    The whole folded names are compared too, so "Smith-Jones" against
    "Smithjones" or "Mary Jane" against "Maryjane" agree exactly.
    """
    if not left or not right:
        return NONE
    if whole_left and whole_left == whole_right:
        return EXACT
    best = NONE
    for a in left:
        for b in right:
            level = _token_level(a, b)
            if _LEVEL_ORDER[level] < _LEVEL_ORDER[best]:
                best = level
    if whole_left and whole_right and best == NONE and _token_level(whole_left, whole_right) != NONE:
        best = TYPO
    return best


def _family_level(query: Details, record: Details) -> str:
    level = _names_level(
        query.family_tokens, record.family_tokens,
        whole_left="".join(query.family_tokens), whole_right="".join(record.family_tokens),
    )
    # One part of a hyphenated or double surname against the whole of it.
    if level == EXACT and (len(query.family_tokens) > 1 or len(record.family_tokens) > 1) and set(
        query.family_tokens
    ) != set(record.family_tokens):
        return PART
    return level


def _given_level(query: Details, record: Details) -> str:
    return _names_level(
        query.given_tokens, record.given_tokens,
        whole_left="".join(tokens(query.given_name)), whole_right="".join(tokens(record.given_name)),
    )


# The given name disagreeing while the family name agrees is its own level:
# it is what a twin, a sibling or a cousin looks like, and far commoner
# among different people than among one person typed twice.
NONE_SAME_FAMILY = "none_same_family"

# The comparison: one level of agreement per field (``None`` when one side
# is blank: no evidence either way), weighed with the probabilities fitted
# and reviewed in ``match_weights``.
COMPARISON_FIELDS = ("given", "family", "swapped", "dob", "postcode", "school", "gender", "upn", "nhs")
# A candidate at or above MATCH_THRESHOLD is "likely the same person"; one
# between REVIEW_THRESHOLD and it is shown to the hub as "possible".
MATCH_THRESHOLD = match_weights.MATCH_THRESHOLD
REVIEW_THRESHOLD = match_weights.REVIEW_THRESHOLD

_LEVEL_WORDS = {
    EXACT: "the same", NICKNAME: "a nickname or another spelling of the same name",
    TYPO: "one or two typing slips apart", PHONETIC: "spelt differently but sound alike",
    SHORT: "one a short form of the other", PART: "one part of a hyphenated or double name",
}
_DOB_WORDS = {
    DOB_EXACT: "Same date of birth",
    DOB_SWAPPED: "Date of birth with day and month swapped",
    DOB_ONE_DIGIT: "Date of birth one digit different",
    DOB_TRANSPOSED: "Date of birth with two digits transposed",
}


def _dob_words(level: str, a: dt.date, b: dt.date) -> str:
    if level in _DOB_WORDS:
        return _DOB_WORDS[level]
    if level == DOB_NEAR and abs((a - b).days) > NEAR_DAYS:
        return "Dates of birth close: day and month each slightly off"
    if level in (DOB_DAYS_APART, DOB_NEAR):
        days = abs((a - b).days)
        return f"Dates of birth {days} day{'s' if days > 1 else ''} apart"
    return "Dates of birth differ"


def _outward(pc: str) -> str:
    # A full UK postcode's inward code is the last three characters.
    return pc[:-3] if len(pc) >= 5 else pc


@dataclass
class Comparison:
    score: float
    reasons: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)


def compare_levels(query: Details, record: Details) -> dict[str, str | None]:
    """The comparison vector: how far each field agrees (``COMPARISON_FIELDS``)."""
    levels: dict[str, str | None] = {}
    for name, key in (("unique_pupil_number", "upn"), ("nhs_number", "nhs")):
        a, b = getattr(query, name), getattr(record, name)
        levels[key] = ("same" if a == b else "different") if a and b else None

    given, family = _given_level(query, record), _family_level(query, record)
    # A name left blank is no evidence either way (an identifier-only search).
    given_missing = not query.given_tokens or not record.given_tokens
    family_missing = not query.family_tokens or not record.family_tokens
    swapped = False
    if _LEVEL_ORDER[given] + _LEVEL_ORDER[family] >= _LEVEL_ORDER[TYPO] * 2:
        cross_given = _names_level(query.given_tokens, record.family_tokens)
        cross_family = _names_level(query.family_tokens, record.given_tokens)
        if cross_given != NONE and cross_family != NONE and (
            _LEVEL_ORDER[cross_given] + _LEVEL_ORDER[cross_family] < _LEVEL_ORDER[given] + _LEVEL_ORDER[family]
        ):
            given, family, swapped = cross_given, cross_family, True
            given_missing = family_missing = False
    if given == NONE and family in (EXACT, PART) and not family_missing:
        given = NONE_SAME_FAMILY
    levels["given"] = None if given_missing else given
    levels["family"] = None if family_missing else family
    levels["swapped"] = None if given_missing or family_missing else ("yes" if swapped else "no")

    levels["dob"] = None
    if query.date_of_birth and record.date_of_birth:
        levels["dob"] = dob_relation(query.date_of_birth, record.date_of_birth) or NONE

    qpc, rpc = postcode_key(query.postcode), postcode_key(record.postcode)
    levels["postcode"] = None
    if qpc and rpc:
        levels["postcode"] = "same" if qpc == rpc else "district" if _outward(qpc) == _outward(rpc) else "different"

    levels["school"] = None
    if query.school_id and record.school_id:
        levels["school"] = "same" if query.school_id == record.school_id else "different"

    binary = {"male", "female"}
    levels["gender"] = None
    if query.gender in binary and record.gender in binary:
        levels["gender"] = "same" if query.gender == record.gender else "different"
    return levels


def explain(query: Details, record: Details, levels: Mapping[str, str | None]) -> list[str]:
    """The comparison in a screener's words, strongest evidence first."""
    reasons: list[str] = []
    for key, label in (("upn", "Unique pupil number"), ("nhs", "NHS number")):
        if levels[key] == "same":
            reasons.append(f"{label} matches")
        elif levels[key] == "different":
            reasons.append(f"{label} differs: a different person")
    if levels["swapped"] == "yes":
        reasons.append("Given and family names swapped")
    given, family, dob, place = levels["given"], levels["family"], levels["dob"], levels["postcode"]
    if given is not None:
        reasons.append(f"Given names {_LEVEL_WORDS[given]}" if given in _LEVEL_WORDS else "Given names differ")
    if family is not None:
        reasons.append(f"Family names {_LEVEL_WORDS[family]}" if family in _LEVEL_WORDS else "Family names differ")
    if dob is not None:
        reasons.append(_dob_words(dob, query.date_of_birth, record.date_of_birth))
    if place is not None:
        reasons.append({"same": "Same postcode", "district": "Same postcode district", "different": "Different postcode"}[place])
    if levels["school"] is not None:
        reasons.append("Same school" if levels["school"] == "same" else "Different school")
    if levels["gender"] == "different":
        reasons.append("Gender recorded differently")
    if given == NONE_SAME_FAMILY and dob == DOB_EXACT and place in ("same", None):
        reasons.append("Given names differ with the same family name and date of birth: likely a twin or sibling")
    elif given == NONE_SAME_FAMILY and place == "same":
        reasons.append("Given names differ at the same address: likely a sibling")
    return reasons


@dataclass(frozen=True)
class Weighing:
    """A comparison weighed: the score, and which alternative to "one person"
    explained the details best (``h`` one family, ``n`` another child of
    the same name, ``u`` another child), with the bits against each."""

    score: float
    against: dict[str, float]
    likeliest_other: str


def weigh(
    levels: Mapping[str, str | None], probabilities=None, *, shares: Mapping[str, float] | None = None,
) -> Weighing:
    """Weigh a comparison vector (see ``casework.match_weights``): log2 m less
    log2 of the other classes mixed by their shares among candidates."""
    table = match_weights.LOG2 if probabilities is None else match_weights.log_tables(probabilities)
    shares = match_weights.SHARES if shares is None else shares
    logs = [0.0] * len(match_weights.CLASSES)
    for key, level in levels.items():
        if level is not None:
            for i, value in enumerate(table[key][level]):
                logs[i] += value
    log_m = logs[0]
    others = {c: math.log2(shares[c]) + logs[i] for i, c in enumerate(match_weights.CLASSES) if c != "m"}
    # log2 of the sum of 2**x, without overflow.
    top = max(others.values())
    mixed = top + math.log2(sum(2 ** (x - top) for x in others.values()))
    return Weighing(
        score=round(log_m - mixed, 2),
        against={c: round(log_m - logs[i], 2) for i, c in enumerate(match_weights.CLASSES) if c != "m"},
        likeliest_other=max(others, key=others.get),
    )


def score_of(levels: Mapping[str, str | None], probabilities=None, *, shares: Mapping[str, float] | None = None) -> float:
    """The score of a comparison vector, in bits."""
    return weigh(levels, probabilities, shares=shares).score


_LIKELIER_WORDS = {
    "h": "More like a brother, sister, twin or cousin than the same person",
    "n": "More like another child of the same name than the same person",
}


def compare(query: Details, record: Details) -> Comparison:
    """Weigh the evidence that two sets of details are one young person."""
    levels = compare_levels(query, record)
    weighing = weigh(levels)
    reasons = explain(query, record, levels)
    # What held a record back, when it is a sibling or a namesake: a
    # screener should know why a near match is only "possible".
    if weighing.score < MATCH_THRESHOLD and weighing.likeliest_other in _LIKELIER_WORDS:
        reasons.append(_LIKELIER_WORDS[weighing.likeliest_other])
    return Comparison(score=weighing.score, reasons=reasons, signals=levels)


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------

DETAIL_FIELDS = frozenset(
    {
        "given_name", "family_name", "preferred_name", "date_of_birth", "postcode", "school",
        "gender", "unique_pupil_number", "nhs_number",
    }
)
# More rows than this from the blocking step means the details are too thin
# to tell people apart; the best-scored of them are still returned.
BLOCK_LIMIT = 300
RESULT_LIMIT = 10
HIDDEN_RECORD_MESSAGE = "A possible existing record exists — the hub will link it."


def clean_details(details: Mapping[str, Any]) -> Details:
    """Validate the details to search with; ``DomainError`` on bad input."""
    if not isinstance(details, Mapping):
        raise DomainError("Give the young person's details to search with", field="details")
    unknown = set(details) - DETAIL_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"Unknown detail: {name}", field=f"details.{name}")

    def text(name: str, max_length: int = 100) -> str:
        value = details.get(name) or ""
        if not isinstance(value, str):
            raise DomainError(f"{name.replace('_', ' ').capitalize()} must be text", field=f"details.{name}")
        value = value.strip()
        if len(value) > max_length:
            raise DomainError(f"{name.replace('_', ' ').capitalize()} is too long", field=f"details.{name}")
        return value

    born = details.get("date_of_birth")
    if isinstance(born, str) and born:
        try:
            born = dt.date.fromisoformat(born)
        except ValueError:
            raise DomainError("Date of birth must be a real date", field="details.date_of_birth") from None
    if born in ("", None):
        born = None
    elif isinstance(born, dt.datetime) or not isinstance(born, dt.date):
        raise DomainError("Date of birth must be a date", field="details.date_of_birth")
    school = details.get("school")
    school_id = getattr(school, "pk", school)
    if school_id is not None and not isinstance(school_id, int):
        raise DomainError("Choose a school", field="details.school")
    cleaned = Details(
        given_name=text("given_name"),
        family_name=text("family_name"),
        preferred_name=text("preferred_name"),
        date_of_birth=born,
        postcode=text("postcode", 10).upper(),
        school_id=school_id,
        gender=text("gender", 16),
        unique_pupil_number=text("unique_pupil_number", 13).upper(),
        nhs_number=text("nhs_number", 12).replace(" ", ""),
    )
    has_identifier = bool(cleaned.unique_pupil_number or cleaned.nhs_number)
    has_name = bool(cleaned.given_tokens or cleaned.family_tokens)
    if not has_identifier and not (has_name and born is not None):
        raise DomainError(
            "Give a name and a date of birth, or a unique pupil number or NHS number, to search",
            field="details", code="required",
        )
    return cleaned


_CANDIDATE_FIELDS = (
    "id", "given_name", "family_name", "preferred_name", "date_of_birth", "postcode", "school_id", "gender",
    "unique_pupil_number", "nhs_number",
)
# Records merged into another, and anonymised ones, are never candidates.
# (Empty identifiers match nothing: the partial unique indexes skip them.)
_CANDIDATES_SQL = f"""
    SELECT {", ".join(f"p.{name}" for name in _CANDIDATE_FIELDS)}
    FROM {YoungPerson._meta.db_table} p
    WHERE p.id IN (
        (SELECT k.young_person_id FROM {YoungPersonMatchKey._meta.db_table} k
         WHERE k.key = ANY(%(keys)s) LIMIT %(key_limit)s)
        UNION ALL
        SELECT u.id FROM {YoungPerson._meta.db_table} u
        WHERE %(upn)s <> '' AND u.unique_pupil_number = %(upn)s AND u.unique_pupil_number <> ''
        UNION ALL
        SELECT n.id FROM {YoungPerson._meta.db_table} n
        WHERE %(nhs)s <> '' AND n.nhs_number = %(nhs)s AND n.nhs_number <> ''
    )
    AND p.id <> ALL(%(exclude)s::bigint[])
    AND (%(partnership)s::bigint IS NULL OR p.partnership_id = %(partnership)s::bigint)
    AND p.anonymised_at IS NULL
    AND NOT EXISTS (
        SELECT 1 FROM {YoungPersonMerge._meta.db_table} m WHERE m.merged_id = p.id AND m.undone_at IS NULL
    )
    LIMIT %(limit)s
"""


def find_candidates(
    details: Details, *, partnership_id: int | None = None, exclude: Iterable[int] = (),
) -> list[tuple[YoungPerson, Comparison]]:
    """Every record that may be the person described, best first, with the
    evidence: in one partnership's index, or (``None``, the benchmark's
    measure of the matcher alone) the whole of it. Past any actor's reach:
    only ``young_person_candidates`` may call it, and it applies the privacy
    rule. Records merged into another, and anonymised ones, are left out."""
    # One round trip: the blocking keys and the identifiers each probe their
    # own index inside the IN (one combined OR would make PostgreSQL scan the
    # whole table), then the rows by primary key. Raw SQL because compiling
    # the equivalent ORM query cost more than running it.
    keys = sorted(query_keys(details))
    if not (keys or details.unique_pupil_number or details.nhs_number):
        return []
    rows = YoungPerson.objects.raw(
        _CANDIDATES_SQL,
        {
            "keys": keys, "key_limit": BLOCK_LIMIT * 4, "limit": BLOCK_LIMIT, "exclude": sorted(set(exclude)),
            "upn": details.unique_pupil_number, "nhs": details.nhs_number, "partnership": partnership_id,
        },
    )
    scored = [(person, compare(details, Details.of(person))) for person in rows]
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].pk))
    return scored


@dataclass(frozen=True)
class Candidate:
    """One possible existing record, with the minimum needed to decide."""

    young_person_id: int
    score: float
    likely: bool
    reasons: tuple[str, ...]
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    postcode: str
    school: str
    recorded_by: str
    has_open_case: bool | None  # None: not shown to this actor


@dataclass(frozen=True)
class MatchResult:
    candidates: tuple[Candidate, ...]
    possible_existing_record: bool
    message: str
    threshold: float = MATCH_THRESHOLD
    review_threshold: float = REVIEW_THRESHOLD

    @property
    def likely(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.likely)


def young_person_candidates(actor: Actor, *, details: Mapping[str, Any], exclude: Iterable[int] = ()) -> MatchResult:
    """Likely existing records for the details given, as this actor may see them.

    Who: anyone who may refer (practitioners, managers and screeners of an
    agency, and partner systems' API clients); anyone else gets
    ``access.NotAllowed``.

    The privacy rule: the hub's screeners see every candidate scoring at
    least ``REVIEW_THRESHOLD``, with the minimum identifying fields (names,
    date of birth, postcode, school, the agency that recorded them, whether
    there is an open case; never identifiers, ethnicity or casework).
    Everyone else sees candidates only among the young people their agency
    may already see (``access.visible_young_people``); if a likely match
    (``MATCH_THRESHOLD``) exists beyond that, they get only
    ``possible_existing_record`` and ``HIDDEN_RECORD_MESSAGE``, no details.

    Guarantees: reads only; every search is written to the access log with
    counts and no personal data.
    """
    if actor.agency is None or actor.partnership is None or not (actor.works_cases or actor.api_client):
        raise access.NotAllowed("Only partner agencies' practitioners, screeners and systems may search for young people")
    query = clean_details(details)
    found = find_candidates(query, partnership_id=actor.partnership_id, exclude=exclude)
    scored = [(p, c) for p, c in found if c.score >= REVIEW_THRESHOLD]

    visible_ids = set(
        access.visible_young_people(actor).filter(pk__in=[p.pk for p, _ in scored]).values_list("pk", flat=True)
    )
    shown = [(p, c) for p, c in scored if p.pk in visible_ids][:RESULT_LIMIT]
    hidden_likely = any(c.score >= MATCH_THRESHOLD and p.pk not in visible_ids for p, c in scored)

    shown_ids = [p.pk for p, _ in shown]
    people = {
        p.pk: p
        for p in YoungPerson.objects.filter(pk__in=shown_ids).select_related("school", "recorded_by")
    }
    # What the actor may learn about cases is the policy's answer, not ours.
    open_cases = access.open_case_flags(actor, shown_ids)
    candidates = tuple(
        Candidate(
            young_person_id=p.pk,
            score=c.score,
            likely=c.score >= MATCH_THRESHOLD,
            reasons=tuple(c.reasons),
            given_name=people[p.pk].given_name,
            family_name=people[p.pk].family_name,
            preferred_name=people[p.pk].preferred_name,
            date_of_birth=people[p.pk].date_of_birth,
            postcode=people[p.pk].postcode,
            school=people[p.pk].school.name if people[p.pk].school else "",
            recorded_by=people[p.pk].recorded_by.name,
            has_open_case=open_cases.get(p.pk) if open_cases is not None else None,
        )
        for p, c in shown
    )
    access.log_access(
        actor, "match_search", object_type="young_person",
        detail={
            "candidates_shown": len(candidates),
            "likely_shown": sum(1 for c in candidates if c.likely),
            "withheld_flag": hidden_likely,
            "blocked": len(scored),
        },
    )
    return MatchResult(
        candidates=candidates,
        possible_existing_record=hidden_likely,
        message=HIDDEN_RECORD_MESSAGE if hidden_likely else "",
    )


def referral_candidates(actor: Actor, *, referral) -> MatchResult:
    """Candidates for the young person on a referral, for the screening page.

    Who: the hub's screeners (``access.may_screen``); a referral outside the
    actor's reach is ``access.NotVisible``, and anyone else who can see it
    gets ``access.NotAllowed``. The referral's own record is left out.
    """
    referral = access.get_referral(actor, getattr(referral, "pk", referral), log=False)
    if not actor.screens_referrals:
        raise access.NotAllowed("Only the hub's screeners match referrals to existing records")
    details = Details.of(referral.young_person)
    return young_person_candidates(
        actor,
        details={
            "given_name": details.given_name, "family_name": details.family_name,
            "preferred_name": details.preferred_name, "date_of_birth": details.date_of_birth,
            "postcode": details.postcode, "school": details.school_id, "gender": details.gender,
            "unique_pupil_number": details.unique_pupil_number, "nhs_number": details.nhs_number,
        },
        exclude=[referral.young_person_id],
    )


__all__ = [
    "COMPARISON_FIELDS", "Candidate", "Comparison", "Details", "MatchResult", "MATCH_THRESHOLD", "REVIEW_THRESHOLD",
    "compare", "compare_levels", "dob_relation", "dob_variants", "explain", "find_candidates", "fold", "match_keys",
    "name_code", "near_dates", "query_keys", "referral_candidates", "score_of", "spelling_key", "tokens", "weigh",
    "young_person_candidates",
]
