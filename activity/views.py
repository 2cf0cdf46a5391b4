"""Activity pages: the Events and Alarms lists, their detail pages, alarm status."""

import json
import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, TemplateView

from activity.filters import AlarmFilterForm, AlarmStatusForm, EventFilterForm
from activity.models import Alarm, Event
from usm_portal.pagination import keyset_page
from usm_portal.views import PortalPermissionMixin

logger = logging.getLogger(__name__)

# The normalised fields a detail page shows, in order, with USM Anywhere's labels.
DETAIL_FIELDS = (
    ("event_name", "Event Name"),
    ("event_category", "Category"),
    ("event_subcategory", "Subcategory"),
    ("event_severity", "Severity"),
    ("plugin", "Data Source"),
    ("sensor", "Sensor"),
    ("external_id", "Vendor ID"),
    ("source_name", "Source"),
    ("source_address", "Source Address"),
    ("source_username", "Username"),
    ("malware_family", "Malware Family"),
    ("file_path", "File Path"),
    ("timestamp_occured", "Time Created"),
    ("timestamp_received", "Time Received"),
)


class EventListView(PortalPermissionMixin, TemplateView):
    permission_required = "activity.view_event"
    template_name = "activity/events.html"
    nav_item = "events"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        form = EventFilterForm(self.request.GET)
        events = form.filter(Event.objects.select_related("sensor"), timezone.now())
        context["form"] = form
        context["page"] = keyset_page(
            events,
            "timestamp_occured",
            before=self.request.GET.get("before"),
            after=self.request.GET.get("after"),
        )
        return context


class EventDetailView(PortalPermissionMixin, DetailView):
    permission_required = "activity.view_event"
    template_name = "activity/event_detail.html"
    nav_item = "events"
    queryset = Event.objects.select_related("sensor", "connection__sensor")
    context_object_name = "event"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["fields"] = detail_fields(self.object)
        context["raw"] = pretty_raw(self.object.log)
        context["alarms"] = self.object.alarms.order_by("-timestamp_occured", "-id")
        return context


class AlarmListView(PortalPermissionMixin, TemplateView):
    permission_required = "activity.view_alarm"
    template_name = "activity/alarms.html"
    nav_item = "alarms"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        form = AlarmFilterForm(self.request.GET)
        alarms = form.filter(Alarm.objects.select_related("sensor"))
        context["form"] = form
        context["page"] = keyset_page(
            alarms,
            "timestamp_occured",
            before=self.request.GET.get("before"),
            after=self.request.GET.get("after"),
        )
        return context


class AlarmDetailView(PortalPermissionMixin, DetailView):
    permission_required = "activity.view_alarm"
    template_name = "activity/alarm_detail.html"
    nav_item = "alarms"
    queryset = Alarm.objects.select_related(
        "sensor", "connection__sensor", "event", "status_changed_by"
    )
    context_object_name = "alarm"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["fields"] = detail_fields(self.object)
        context["raw"] = pretty_raw(self.object.log)
        context["status_form"] = AlarmStatusForm(initial={"status": self.object.status})
        return context


class AlarmStatusView(PortalPermissionMixin, View):
    """Set an alarm's status (Open, In Review, Closed) and record who set it."""

    permission_required = "activity.change_alarm"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alarm = get_object_or_404(Alarm, pk=pk)
        form = AlarmStatusForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(
                "The status must be open, in review or closed."
            )

        status = form.cleaned_data["status"]
        if status == alarm.status:
            messages.info(
                request, f"The alarm is already {alarm.get_status_display()}."
            )
            return redirect(alarm)
        alarm.status = status
        alarm.status_changed_at = timezone.now()
        alarm.status_changed_by = request.user
        alarm.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        logger.info("Alarm %s set to %s by %s", alarm.pk, status, request.user)
        messages.success(request, f"Alarm status set to {alarm.get_status_display()}.")
        return redirect(alarm)


def detail_fields(record) -> list[tuple[str, object]]:
    """Return (label, value) for every normalised field of an event or alarm."""
    rows = []
    for name, label in DETAIL_FIELDS:
        display = getattr(record, f"get_{name}_display", None)
        rows.append((label, display() if display else getattr(record, name)))
    return rows


def pretty_raw(log: str) -> str:
    """Return the raw record indented for reading, or the text as stored if it is not
    JSON.

    Lone surrogates, which JSON escapes can carry, are shown as ``\\udXXX`` so the
    page stays valid UTF-8.
    """
    try:
        text = json.dumps(json.loads(log), indent=2, ensure_ascii=False)
    except ValueError:
        text = log
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
