"""`{% api_tokens_of_user user as tokens %}`: the account page's API token section
(templates/dashboard/_api_tokens.html) takes the viewer's own tokens from here."""

from django import template
from django.utils import timezone

from resellers.tokens import api_tokens_of

register = template.Library()


@register.simple_tag
def api_tokens_of_user(user):
    if not getattr(user, "is_authenticated", False):
        return []
    return list(api_tokens_of(user=user, now=timezone.now()))
