"""Root URLs. The admin lives at settings.ADMIN_URL (production sets its own, not admin/)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("dashboard.urls")),
]
