from django.core.management.base import BaseCommand

from ecom_project.events.contracts import CONTRACTS_DIR, write_contracts


class Command(BaseCommand):
    help = "Write the JSON Schema of the envelope and of every event to contracts/ (review the diff before committing)."

    def handle(self, *args, **options) -> None:
        names = write_contracts()
        self.stdout.write(f"wrote {len(names)} schemas to {CONTRACTS_DIR}")
