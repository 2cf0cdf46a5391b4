from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """Tell templates which section of the left navigation the page belongs to."""
    match = getattr(request, "resolver_match", None)
    return {"nav_section": match.namespace if match else ""}
