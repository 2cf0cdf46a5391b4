"""Re-encrypt every stored credential with the first key of TOKEN_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alienapps import secrets
from alienapps.models import Connection


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored AlienApp credential with the first (newest) key of "
        "TOKEN_ENCRYPTION_KEYS. Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options) -> None:
        rotated = 0
        with transaction.atomic():
            for connection in Connection.objects.select_for_update().exclude(secret=""):
                try:
                    connection.secret = secrets.rotate(connection.secret)
                except Exception as error:
                    raise CommandError(
                        f"The credential of connection {connection.pk} ({connection}) "
                        "cannot be decrypted with any configured key; nothing was changed."
                    ) from error
                connection.save(update_fields=["secret"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} credentials with the newest key.")
