from celery import shared_task


@shared_task
def run_ledger_import_job(job_id: int) -> str:
    """Read a stored ledger export whole, then write it (funding.ledger_jobs)."""
    from .ledger_jobs import run_ledger_import

    return run_ledger_import(job_id)


@shared_task
def remind_due_reviews() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): remind experts of reviews due soon or late."""
    from .review_deadlines import send_review_reminders

    return send_review_reminders()
