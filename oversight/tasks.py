from celery import shared_task


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def generate_certificate(self, certificate_id: int) -> str:
    from .certificates import generate_pdf

    return generate_pdf(certificate_id).sha256


@shared_task
def remind_due_reports() -> int:
    """Run daily by Celery beat (CELERY_BEAT_SCHEDULE in config/settings.py)."""
    from .supervision import send_reminders

    return send_reminders()


@shared_task
def propose_overdue_acceptance_cases() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): acceptance long overdue proposes an integrity case."""
    from .overdue import propose_overdue_acceptance_cases as propose

    return propose()


@shared_task
def schedule_fund_checks() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): the supervision firms' fund checks fallen due."""
    from .supervision_engagements import create_due_checks

    return create_due_checks()
