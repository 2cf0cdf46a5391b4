"""Render times in the viewer's time zone, which the browser reports in a cookie."""

import zoneinfo

from django.conf import settings
from django.utils import timezone

COOKIE_NAME = "viewer_tz"


class ViewerTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(viewer_time_zone(request.COOKIES.get(COOKIE_NAME, "")))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def viewer_time_zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the named IANA zone, or DISPLAY_TIME_ZONE when the name is unknown."""
    if name and len(name) <= 64:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)
