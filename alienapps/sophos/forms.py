"""The Configure API form of the Sophos Central AlienApp.

The pasted token block is write-only: the textarea never renders a value, so neither
a stored token nor text pasted into a form that failed validation is sent back to
the browser. An empty textarea keeps the stored token.
"""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from alienapps import services
from alienapps.models import NO_DATA_CHOICES, Connection
from alienapps.sophos.tokenblock import TokenBlockError, parse_token_block
from sensors.models import Sensor

TOKEN_LABEL = "Change Sophos Central API Access URL + Headers"
NO_DATA_LABEL = "Create events if the app stops consuming data"
TOKEN_HELP_NEW = (
    "Paste the block that Sophos Central's Copy button gives under Global Settings > "
    "API Token Management (API Access URL + Headers)."
)
TOKEN_HELP_STORED = (
    "A token is set, saved {saved}. Leave this empty to keep it, or paste a new "
    "block to replace it."
)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that always renders empty, so a credential is never echoed."""

    def format_value(self, value) -> None:
        return None


class SophosConfigureForm(forms.Form):
    sensor = forms.ModelChoiceField(
        label="Sensor",
        queryset=None,
        empty_label=None,
        help_text="The sensor whose worker calls Sophos Central. It needs outbound "
        "TCP 443 to the events and alerts endpoints.",
    )
    token = forms.CharField(
        label=TOKEN_LABEL,
        required=False,
        strip=False,
        widget=WriteOnlyTextarea(
            attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    token_expires_on = forms.DateField(
        label="Token expiry date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Sophos Central API tokens are valid for one year. Health turns "
        "to Warning 30 days before this date.",
    )
    no_data_minutes = forms.TypedChoiceField(
        label=NO_DATA_LABEL,
        choices=[
            ("" if value is None else value, label) for value, label in NO_DATA_CHOICES
        ],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, data=None, *, app, sensors, connection=None, today=None) -> None:
        self.app = app
        self.connection = connection
        self.sensors = list(sensors)
        self.today = today or timezone.localdate()
        self.token_warnings: list[str] = []
        super().__init__(data, initial=self._initial(), label_suffix="")
        self._add_stream_fields()
        self._set_up_sensor_field()
        self._set_token_help()
        self.order_fields(
            [
                "sensor",
                "token",
                *self.stream_fields,
                "token_expires_on",
                "no_data_minutes",
            ]
        )

    @property
    def stream_fields(self) -> list[str]:
        return [f"collect_{stream.slug}" for stream in self.app.streams]

    @property
    def stream_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.stream_fields]

    def _initial(self) -> dict:
        connection = self.connection
        if connection is None:
            return {"token_expires_on": self._default_expiry(None)}
        return {
            "sensor": connection.sensor_id,
            "token_expires_on": connection.token_expires_on
            or self._default_expiry(connection.token_saved_at),
            "no_data_minutes": connection.no_data_minutes,
        }

    def _default_expiry(self, saved_at) -> date | None:
        lifetime = self.app.credential_lifetime_days
        if lifetime is None:
            return None
        saved_on = timezone.localdate(saved_at) if saved_at else self.today
        return saved_on + timedelta(days=lifetime)

    def _add_stream_fields(self) -> None:
        enabled = None
        if self.connection is not None:
            enabled = {job.stream for job in self.connection.jobs.all() if job.enabled}
        for stream in self.app.streams:
            self.fields[f"collect_{stream.slug}"] = forms.BooleanField(
                label=stream.collect_label,
                required=False,
                initial=enabled is None or stream.slug in enabled,
            )

    def _set_up_sensor_field(self) -> None:
        """Offer the sensor selector only when there is more than one sensor."""
        if len(self.sensors) > 1:
            self.fields["sensor"].queryset = Sensor.objects.all()
        else:
            del self.fields["sensor"]

    def _set_token_help(self) -> None:
        field = self.fields["token"]
        if self.connection is not None and self.connection.has_secret:
            saved = timezone.localtime(self.connection.token_saved_at)
            field.help_text = TOKEN_HELP_STORED.format(saved=f"{saved:%Y-%m-%d %H:%M}")
        else:
            field.help_text = TOKEN_HELP_NEW

    @property
    def has_sensor_selector(self) -> bool:
        return "sensor" in self.fields

    def chosen_sensor(self):
        if self.has_sensor_selector:
            return self.cleaned_data.get("sensor")
        return self.sensors[0] if self.sensors else None

    def clean_token(self):
        text = self.cleaned_data.get("token") or ""
        if not text.strip():
            if self.connection is not None and self.connection.has_secret:
                return None
            raise forms.ValidationError(TOKEN_HELP_NEW, code="required")
        try:
            block = parse_token_block(text)
        except TokenBlockError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        self.token_warnings = list(block.warnings)
        return block

    def clean_token_expires_on(self) -> date | None:
        value = self.cleaned_data.get("token_expires_on")
        changed = "token_expires_on" in self.changed_data
        if value and changed and value < self.today:
            raise forms.ValidationError(
                "The token expiry date is in the past. Enter the expiry date that "
                "Sophos Central shows for this token.",
                code="past",
            )
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        self._check_sensor()
        if not any(cleaned.get(name) for name in self.stream_fields):
            labels = " or ".join(stream.collect_label for stream in self.app.streams)
            self.add_error(self.stream_fields[0], f"Choose at least one: {labels}.")
        return cleaned

    def _check_sensor(self) -> None:
        sensor = self.chosen_sensor()
        if sensor is None:
            if not self.sensors:
                self.add_error(
                    None,
                    "No sensor is registered. A Manager registers one in the admin "
                    "(Sensors > Add sensor) first.",
                )
            return
        existing = Connection.objects.filter(app=self.app.slug, sensor=sensor)
        if self.connection is not None:
            existing = existing.exclude(pk=self.connection.pk)
        if existing.exists():
            message = (
                f"Sensor {sensor} already has a {self.app.name} connection. Edit that "
                "connection instead."
            )
            self.add_error("sensor" if self.has_sensor_selector else None, message)

    def _expiry_argument(self, cleaned: dict, changed: bool):
        """Return the new expiry date, None to keep it, or services.CLEAR_EXPIRY."""
        if not changed:
            return None
        return cleaned["token_expires_on"] or services.CLEAR_EXPIRY

    def service_arguments(self) -> dict:
        """Return the keyword arguments of services.save_connection this form sets."""
        cleaned = self.cleaned_data
        streams = {
            stream.slug
            for stream in self.app.streams
            if cleaned.get(f"collect_{stream.slug}")
        }
        # An untouched expiry date lets a new token get the default lifetime.
        expiry_changed = "token_expires_on" in self.changed_data
        return {
            "sensor": self.chosen_sensor(),
            "token_block": cleaned["token"],
            "streams": streams,
            "token_expires_on": self._expiry_argument(cleaned, expiry_changed),
            "no_data_minutes": cleaned["no_data_minutes"],
        }
