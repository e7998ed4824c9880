"""API plumbing shared by every app's API views: the error mapping (and, in config.pagination,
the page numbers)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from billing.gateway import CardDeclined, GatewayError
from billing.idempotency import IdempotencyKeyBusy, IdempotencyKeyReused
from billing.taxes.engines import TaxEngineError
from resellers.exceptions import ApplicationError, PermissionDenied


def exception_handler(exc, context):
    """Domain errors become 400 naming the field (403 for PermissionDenied). An Idempotency-Key
    still in use by a running request answers 409, one already used for another request 422
    (billing.idempotency). The gateway declining answers 402; the gateway or a tax engine
    failing answers 503: in every case the service wrote nothing, and a retry with the same
    key is safe."""
    if isinstance(exc, PermissionDenied):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, IdempotencyKeyBusy):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IdempotencyKeyReused):
        return Response({"detail": exc.message}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, CardDeclined):
        return Response({"detail": exc.message}, status=status.HTTP_402_PAYMENT_REQUIRED)
    if isinstance(exc, (GatewayError, TaxEngineError)):
        return Response({"detail": exc.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, ApplicationError):
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
