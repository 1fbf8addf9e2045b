from celery import shared_task


@shared_task
def enforce_sanctions_in_force() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): a sanction whose start has come acts on its day."""
    from .services import enforce_sanctions_in_force as enforce

    return enforce()
