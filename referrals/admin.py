"""Nothing from this app is in the Django admin, on purpose.

Young people, referrals, cases, interventions, reviews and the chronology are
case content. The admin is a system administrator's tool, and a superuser is
not a back door to casework: every read of case data goes through
``safeguarding.access``, which checks the agency's relation to the case and
writes the access log. The admin does neither, so these models stay out.
"""
