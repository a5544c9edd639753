from django.core.management.base import BaseCommand

from examples.anchor.demo_asset import ensure_demo_asset


class Command(BaseCommand):
    help = "Issue the demo asset on the configured network and register it (does nothing if it exists)."

    def add_arguments(self, parser):
        parser.add_argument("--code", default="USDC")

    def handle(self, *args, code, **options):
        asset = ensure_demo_asset(code)
        self.stdout.write(f"asset {asset.code}:{asset.issuer} distribution={asset.distribution_account}")
