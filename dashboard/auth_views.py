"""The panel's own sign-in chores: API tokens on the account page, and password reset.

API tokens (rules in resellers.tokens): a user lists and revokes their own tokens on /account/
(provider staff, who have no /account/ page, on /account/api-tokens/). POST
/account/api-tokens/<id>/revoke/ revokes one (another user's token answers 404), POST
/account/api-tokens/revoke-all/ revokes them all, and POST /account/sign-out-everywhere/ revokes
them all and ends this session. The panel's plain "Log out" ends the session and leaves the
tokens alone: they belong to the user's integrations.

Password reset: Django's views (dashboard/urls.py) with templates in templates/registration/. The
email links to settings.SITE_URL, the panel's public address, not to whatever Host the request
named. Setting a new password through the link clears the username's lockout (resellers.logins)
and revokes its API tokens: whoever locked the account out may also know the old password.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView
from knox.models import AuthToken

from resellers.tenancy import is_provider_staff
from resellers.tokens import api_token_revoke_by_digest, api_tokens_revoke_all


def _tokens_page(user) -> str:
    """Where the token section lives for this user: the account page, or staff's own page."""
    return reverse("api_tokens") if is_provider_staff(user) else reverse("account") + "#api-tokens"


class ApiTokensView(LoginRequiredMixin, TemplateView):
    """The user's API tokens on a page of their own (provider staff have no account page)."""

    template_name = "dashboard/api_tokens.html"


class ApiTokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, digest: str):
        try:
            api_token_revoke_by_digest(user=request.user, digest=digest, via="panel")
        except AuthToken.DoesNotExist:
            raise Http404("No such API token of yours.") from None
        messages.success(request, "The API token is revoked: it no longer works.")
        return HttpResponseRedirect(_tokens_page(request.user))


class ApiTokensRevokeAllView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        count = api_tokens_revoke_all(user=request.user, via="panel")
        messages.success(request, f"All your API tokens are revoked ({count}).")
        return HttpResponseRedirect(_tokens_page(request.user))


class SignOutEverywhereView(LoginRequiredMixin, View):
    """Revoke every API token of the user, then log this session out."""

    http_method_names = ["post"]

    def post(self, request):
        api_tokens_revoke_all(user=request.user, via="sign_out_everywhere")
        logout(request)
        messages.success(request, "You are logged out, and all your API tokens are revoked.")
        return redirect(settings.LOGOUT_REDIRECT_URL)


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        axes_reset(username=user.get_username())
        api_tokens_revoke_all(user=user, via="password_reset")
        return response
