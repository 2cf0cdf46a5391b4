"""Filter forms of the Events and Alarms lists.

Each form turns its valid fields into a queryset filter. It ignores the invalid
ones, which the page shows as errors."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.db.models import Q, QuerySet

from activity.models import Alarm, Severity
from sensors.models import Sensor

RANGE_CHOICES = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("48h", "Last 48 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("all", "All time"),
    ("custom", "Custom range"),
]
RANGE_LENGTHS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "48h": timedelta(hours=48),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_RANGE = "24h"

# The bands of activity.models.priority_label, inclusive at both ends.
PRIORITY_BANDS = {
    "low": (0, 33),
    "medium": (34, 66),
    "high": (67, 90),
    "critical": (91, 100),
}
PRIORITY_CHOICES = [("", "Any priority")] + [
    (band, band.capitalize()) for band in PRIORITY_BANDS
]
TIME_INPUT = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)


class FilterForm(forms.Form):
    """A GET filter form. Labels have no colon because they sit above the inputs."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class EventFilterForm(FilterForm):
    range = forms.ChoiceField(label="Time range", choices=RANGE_CHOICES, required=False)
    severity = forms.ChoiceField(
        label="Severity",
        choices=[("", "Any severity"), *Severity.choices],
        required=False,
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Event name, host, user name or address.",
    )
    sensor = forms.ModelChoiceField(
        label="Sensor",
        queryset=Sensor.objects.all(),
        required=False,
        empty_label="Any sensor",
    )

    def __init__(self, data, *args, **kwargs) -> None:
        data = data.copy()
        if not data.get("range"):
            data["range"] = DEFAULT_RANGE
        super().__init__(data, *args, **kwargs)
        # "from" is a Python keyword, so these two fields are added by name.
        self.fields["from"] = UTCDateTimeField(
            label="From", required=False, widget=TIME_INPUT
        )
        self.fields["to"] = UTCDateTimeField(
            label="To", required=False, widget=TIME_INPUT
        )
        self.order_fields(["range", "from", "to", "severity", "q", "sensor"])

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "The To time must be after the From time.")
        if cleaned.get("range") == "custom" and not (start or end):
            self.add_error("from", "Enter a From or To time for a custom range.")
        return cleaned

    def filter(self, queryset: QuerySet, now: datetime) -> QuerySet:
        self.is_valid()
        cleaned = self.cleaned_data
        queryset = self._filter_time(queryset, cleaned, now)
        if cleaned.get("severity"):
            queryset = queryset.filter(event_severity=cleaned["severity"])
        if cleaned.get("sensor"):
            queryset = queryset.filter(sensor=cleaned["sensor"])
        if cleaned.get("q"):
            queryset = queryset.filter(text_query(cleaned["q"]))
        return queryset

    def _filter_time(self, queryset, cleaned: dict, now: datetime) -> QuerySet:
        start, end = cleaned.get("from"), cleaned.get("to")
        if start or end or cleaned.get("range") == "custom":
            if start:
                queryset = queryset.filter(timestamp_occured__gte=start)
            if end:
                queryset = queryset.filter(timestamp_occured__lte=end)
            return queryset
        length = RANGE_LENGTHS.get(cleaned.get("range") or DEFAULT_RANGE)
        if length is None:
            return queryset
        return queryset.filter(timestamp_occured__gte=now - length)


class UTCDateTimeField(forms.DateTimeField):
    """A time in the viewer's zone, returned in UTC; rejects times UTC cannot hold."""

    def clean(self, value):
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        try:
            return cleaned.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                "Enter a time between the years 1 and 9999 in UTC.", code="invalid"
            ) from None


def text_query(text: str) -> Q:
    text = text.strip()
    return (
        Q(event_name__icontains=text)
        | Q(source_name__icontains=text)
        | Q(source_username__icontains=text)
        | Q(source_address__icontains=text)
    )


class AlarmFilterForm(FilterForm):
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any status"), *Alarm.Status.choices],
        required=False,
    )
    priority = forms.ChoiceField(
        label="Priority", choices=PRIORITY_CHOICES, required=False
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Alarm name, host, user name or address.",
    )
    sensor = forms.ModelChoiceField(
        label="Sensor",
        queryset=Sensor.objects.all(),
        required=False,
        empty_label="Any sensor",
    )

    def filter(self, queryset: QuerySet) -> QuerySet:
        self.is_valid()
        cleaned = self.cleaned_data
        if cleaned.get("status"):
            queryset = queryset.filter(status=cleaned["status"])
        if cleaned.get("priority"):
            low, high = PRIORITY_BANDS[cleaned["priority"]]
            queryset = queryset.filter(priority__gte=low, priority__lte=high)
        if cleaned.get("sensor"):
            queryset = queryset.filter(sensor=cleaned["sensor"])
        if cleaned.get("q"):
            queryset = queryset.filter(text_query(cleaned["q"]))
        return queryset


class AlarmStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Alarm.Status.choices)
