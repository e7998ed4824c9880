"""Page numbers on list endpoints (config.pagination): a value that is not a page number answers
400 naming `page`; a page past the last one answers 404, as DRF does; the schema says both."""

import pytest

from config.pagination import PAGE_MESSAGE

LISTS = ["/api/v1/documents/", "/api/v1/orders/", "/api/v1/payments/", "/api/v1/customers/"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", " 1", "1e2", "٣", "00"])
def test_a_page_that_is_no_page_number_answers_400_naming_page(world, api, url, page):
    response = api(world.alpha).get(url, {"page": page})

    assert response.status_code == 400, response.content
    assert response.json() == {"page": [PAGE_MESSAGE]}


@pytest.mark.parametrize("url", LISTS)
def test_page_numbers_from_1_and_last_are_served(world, api, url):
    client = api(world.alpha)

    unnamed, first, last = (
        client.get(url),
        client.get(url, {"page": "1"}),
        client.get(url, {"page": "last"}),
    )

    assert unnamed.status_code == first.status_code == last.status_code == 200
    assert unnamed.json() == first.json() == last.json()  # each list fits in one page here


def test_a_page_past_the_last_answers_404(world, api):
    client = api(world.alpha)

    response = client.get("/api/v1/documents/", {"page": "2"})
    huge = client.get("/api/v1/documents/", {"page": "9" * 30})

    assert response.status_code == huge.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_an_empty_list_has_a_page_1(world, api):
    response = api(world.alpha).get("/api/v1/documents/", {"page": "1", "status": "cancelled"})

    assert response.status_code == 200
    assert (response.json()["count"], response.json()["results"]) == (0, [])


def test_the_schema_documents_the_page_parameter(db, api):
    schema = api().get("/api/v1/schema/?format=json").json()

    for path in ("/api/v1/documents/", "/api/v1/orders/", "/api/v1/products/"):
        (page,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "page"]
        assert page["in"] == "query" and page["required"] is False
        assert page["schema"] == {"type": "integer", "minimum": 1}
        assert "answers 400 naming `page`" in page["description"]
        assert "past the last one answers 404" in page["description"]
