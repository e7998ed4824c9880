"""Page numbers on every list endpoint (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS).

DRF's PageNumberPagination answers 404 "Invalid page." for `?page=0`, `?page=-1` or `?page=abc`,
as if the list did not exist. Here a page value that is not a page number at all is the client's
mistake and answers 400 naming `page`; a well-formed page past the last one still answers 404
(DRF's behaviour: that page does not exist, and the list may have shrunk since the client counted
it). Decided once, here, and written into the schema's description of `page`.
"""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

PAGE_MESSAGE = "A page is a whole number of at least 1, or `last`."


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N`: N a whole number from 1 (ASCII digits only), or `last`; absent means 1.

    0, negative, empty or non-integer values answer 400 `{"page": [PAGE_MESSAGE]}`; a page past
    the last answers 404 (an empty list still has its page 1, with no results)."""

    page_query_description = (
        "A page number within the paginated result set: a whole number from 1 (the default), or "
        "`last`. 0, a negative number, an empty value or anything else that is not a whole "
        "number answers 400 naming `page`; a page past the last one answers 404 "
        '("Invalid page."). An empty list has a page 1 with no results.'
    )

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param)
        if value is None:
            return 1
        if value in self.last_page_strings:
            return paginator.num_pages
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise ValidationError({self.page_query_param: [PAGE_MESSAGE]})
        return int(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
