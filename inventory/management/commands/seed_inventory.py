"""Seed SKU-1…SKU-N; idempotent, never clobbers live stock."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inventory import services

MAX_SKUS = 10_000
MAX_QTY = 1_000_000_000


class Command(BaseCommand):
    help = (
        "Give SKU-1…SKU-N Q units available each where the SKU does not exist yet (default 20 SKUs x 10,000). "
        "Existing SKUs are never changed. --if-empty seeds only when there is no stock at all."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", dest="if_empty", help="seed only an empty stock")
        parser.add_argument("--skus", type=int, default=20, help=f"how many SKUs, 1-{MAX_SKUS} (default 20)")
        parser.add_argument("--qty", type=int, default=10_000, help=f"units per SKU, 0-{MAX_QTY} (default 10000)")

    def handle(self, *args, if_empty: bool = False, skus: int = 20, qty: int = 10_000, **options) -> None:
        if not 1 <= skus <= MAX_SKUS:
            raise CommandError(f"--skus must be between 1 and {MAX_SKUS}, got {skus}")
        if not 0 <= qty <= MAX_QTY:
            raise CommandError(f"--qty must be between 0 and {MAX_QTY}, got {qty}")
        created = services.stock_seed(skus=skus, qty=qty, if_empty=if_empty)
        if created is None:
            self.stdout.write("inventory not empty: nothing seeded (--if-empty)")
        else:
            self.stdout.write(
                f"seeded {created} of SKU-1…SKU-{skus} with {qty} units each; {skus - created} already existed, left unchanged"
            )
