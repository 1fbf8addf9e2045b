from celery import shared_task


@shared_task
def checkpoint_trail() -> int:
    """Run daily by Celery beat (CELERY_BEAT_SCHEDULE in config/settings.py).

    Fails loudly without a key or on a rewritten trail, so the beat's errors show it.
    """
    from .checkpoints import make_checkpoint

    return make_checkpoint().seq
