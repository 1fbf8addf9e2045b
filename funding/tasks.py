from celery import shared_task


@shared_task
def run_ledger_import_job(job_id: int) -> str:
    """Read a stored ledger export whole, then write it (funding.ledger_jobs)."""
    from .ledger_jobs import run_ledger_import

    return run_ledger_import(job_id)
