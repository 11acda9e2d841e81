"""The reliability drill (`manage.py chaos`): fault plan, supervisor, event ledger, invariants.

Only kernel imports here; the command gathers the apps' state through their selectors."""
