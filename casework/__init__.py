"""Casework: the workflow that moves referrals and cases (intake, matching,
screening, allocation, chronology, interventions, reviews, closure) and the
reads every channel shares. Above the access policy, below the edges."""
