"""``manage.py fit_match_weights --partnership <slug> --by <screener-username> [--sample N] [--python]``

Fits the matching weights (``casework.match_fitting``) on one partnership's
own young-person records, on the authority of one of its hub screeners
(``--by``: they may see the partnership's whole index), and prints them
beside the stored ones for review: for each field and level each class's
probability (one person, one family, namesakes, other children) and the
weights against each, with how often each level was seen. ``--python`` also prints the literal for
``casework/match_weights.py``.

It changes nothing: the weights in use change only when a person puts the
reviewed figures in ``casework/match_weights.py``. It reads the records
under the partnership's row-level security and writes one access-log row
with counts; nothing it prints is about any one young person.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agencies.models import Partnership
from casework import match_fitting, match_weights
from safeguarding import access
from safeguarding.models import Channel

# How much the stored probabilities weigh against the partnership's own
# pairs, in pairs of each class: a partnership holds few duplicates, so its
# own data should move m only as far as they clearly show.
PRIOR_STRENGTH = 200.0
CLASS_WORDS = {"m": "one person", "h": "one family", "n": "namesakes", "u": "other children"}


class Command(BaseCommand):
    help = "Fit the young-person matching weights on a partnership's own records, for review."

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, metavar="SLUG", help="The partnership whose records to fit on")
        parser.add_argument("--by", required=True, metavar="USERNAME", help="A hub screener of that partnership")
        parser.add_argument("--sample", type=int, default=2000, help="How many records to search for (default 2000)")
        parser.add_argument("--random-pairs", type=int, default=100_000, help="Random pairs for u (default 100000)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--python", action="store_true", help="Also print the literal for casework/match_weights.py")

    def handle(self, *args, partnership, by, sample, random_pairs, seed, python, **options):
        if sample < 2 or random_pairs < 1:
            raise CommandError("--sample must be at least 2 and --random-pairs at least 1")
        place = Partnership.objects.filter(slug=partnership).first()
        if place is None:
            raise CommandError(f"No partnership with the slug {partnership!r}")
        user = get_user_model().objects.filter(username__iexact=by).first()
        if user is None:
            raise CommandError(f"No account {by!r}")
        actor = access.actor_for_user(user, partnership=place, channel=Channel.COMMAND)
        if actor.partnership_id != place.pk or not actor.screens_referrals:
            raise CommandError(f"{by!r} is not a hub screener working in {place.name}")
        try:
            with access.within_partnership(actor):
                pairs = match_fitting.partnership_patterns(actor, sample=sample, random_pairs=random_pairs, seed=seed)
        except access.NotAllowed as exc:
            raise CommandError(str(exc)) from None
        if not pairs.candidates:
            raise CommandError(f"{place.name} has too few records to compare")
        fit = match_fitting.fit(
            pairs.candidates, pairs.random, start=match_weights.PROBABILITIES, prior_strength=PRIOR_STRENGTH,
        )
        self.stdout.write(
            f"{place.name}: {pairs.records:,} records searched for, {fit.pairs:,} candidate pairs, "
            f"{sum(pairs.random.values()):,} random pairs; EM {'converged' if fit.converged else 'stopped'} "
            f"after {fit.iterations} iterations; shares of the candidates: "
            + ", ".join(f"{CLASS_WORDS[c]} {share:.4f}" for c, share in fit.shares.items())
            + f" (of the others, stored {match_weights.SHARES}, fitted {fit.other_shares})"
        )
        self.stdout.write("")
        self.stdout.write(match_fitting.review_table(
            {"stored": match_weights.PROBABILITIES, "fitted": fit.probabilities}, fit.seen,
        ))
        self.stdout.write("")
        self.stdout.write(
            "Nothing has changed: to adopt these, review them and put them in casework/match_weights.py "
            "(its REVIEWED entries still apply on top)."
        )
        if python:
            self.stdout.write("")
            self.stdout.write(match_fitting.as_python(fit.probabilities, fit.other_shares))
