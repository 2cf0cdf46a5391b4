"""The left navigation, filtered by the signed-in user's permissions, and small
template helpers shared by every page."""

from dataclasses import dataclass

from django import template
from django.urls import reverse

register = template.Library()


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    permission: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAVIGATION = (
    (
        "Activity",
        (
            NavItem("events", "Events", "activity:events", "activity.view_event"),
            NavItem("alarms", "Alarms", "activity:alarms", "activity.view_alarm"),
        ),
    ),
    (
        "Data Sources",
        (
            NavItem(
                "alienapps",
                "AlienApps",
                "alienapps:catalogue",
                "alienapps.view_connection",
            ),
            NavItem("sensors", "Sensors", "sensors:list", "sensors.view_sensor"),
        ),
    ),
    (
        "Settings",
        (
            NavItem(
                "scheduler",
                "Scheduler",
                "alienapps:scheduler",
                "alienapps.view_logcollectionjob",
            ),
        ),
    ),
)


def navigation_for(user) -> list[tuple[str, list[NavItem]]]:
    """Return the navigation sections with the items ``user`` may open, leaving out
    the sections with none."""
    sections = []
    for title, items in NAVIGATION:
        allowed = [item for item in items if user.has_perm(item.permission)]
        if allowed:
            sections.append((title, allowed))
    return sections


@register.inclusion_tag("includes/navigation.html", takes_context=True)
def portal_navigation(context) -> dict:
    user = context["user"]
    return {
        "sections": navigation_for(user),
        "current": context.get("nav_item", ""),
        "show_admin": user.is_active and user.is_staff,
    }


@register.inclusion_tag("includes/health.html")
def health_icon(health: str, label: str = "") -> dict:
    """Render a Health state as an icon with a text alternative."""
    return {"health": health, "label": label or health.capitalize()}
