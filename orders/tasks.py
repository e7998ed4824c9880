"""Scheduled order jobs. Thin: read the clock, pick the orders, call one service each."""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services import InvalidOrderTransition, order_resume

logger = logging.getLogger(__name__)


@shared_task(
    name="orders.tasks.resume_stalled_orders",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,  # idempotent: a second delivery finds nothing left Submitted
    soft_time_limit=settings.ORDERS_RESUME_SOFT_TIME_LIMIT,
    time_limit=settings.ORDERS_RESUME_TIME_LIMIT,
)
def resume_stalled_orders(older_than_minutes: int = 10) -> dict:
    """Finish orders left *Submitted* by a crash midway through validation. Only orders idle for
    `older_than_minutes`, so requests still in flight are left alone; running it twice changes
    nothing the second time."""
    cutoff = timezone.now() - datetime.timedelta(minutes=older_than_minutes)
    stalled = (
        Order.objects.filter(status=OrderStatus.SUBMITTED, sub_orders__isnull=True)
        .filter(submitted_at__lte=cutoff)
        .filter(Q(approved_at__isnull=True) | Q(approved_at__lte=cutoff))
        .values_list("pk", flat=True)
    )
    today = timezone.localdate()
    outcome: dict[str, list[int]] = {}
    for pk in list(stalled):
        try:
            order = order_resume(order=Order(pk=pk), today=today)
        except InvalidOrderTransition:
            continue  # someone else finished it meanwhile
        outcome.setdefault(order.status, []).append(pk)
        logger.info(
            "resumed order %s: %s", pk, order.status, extra={"order_id": pk, "status": order.status}
        )
    return outcome
