"""SEP-10 replay protection: each challenge can be exchanged for a token only once."""

from django.db import models
from django.utils import timezone


class UsedChallenge(models.Model):
    """A challenge that already bought a token, kept until its time bounds close.

    The unique ``challenge_hash`` makes the second exchange fail even when two requests race. Once
    ``expires_at`` (the challenge's maxTime) has passed, POST /auth rejects the challenge on its time
    bounds anyway, so the row can go: ``purge_expired`` runs on every exchange.
    """

    challenge_hash = models.CharField(max_length=64, unique=True)
    account = models.CharField(max_length=69)  # G..., G...:memo's G, or M...
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "polaris"

    def __str__(self) -> str:
        return f"{self.challenge_hash} ({self.account})"

    @classmethod
    def purge_expired(cls) -> int:
        deleted, _ = cls.objects.filter(expires_at__lt=timezone.now()).delete()
        return deleted
