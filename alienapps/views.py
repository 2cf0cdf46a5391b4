"""AlienApps pages: the catalogue, an app's page, Configure API, and the Scheduler."""

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView

from alienapps import registry, services
from alienapps.health import EXPIRY_WARNING_DAYS, note_stale_queue
from alienapps.models import CollectionRun, Connection, Health, LogCollectionJob
from sensors.models import Sensor
from usm_portal.pagination import keyset_page
from usm_portal.views import PortalPermissionMixin

logger = logging.getLogger(__name__)

CATALOGUE_TABS = (
    ("available", "Available Apps"),
    ("custom-apps", "Custom Apps"),
    ("custom-templates", "Custom Templates"),
)
# Message levels that announce a connection's Health after Save and Test connection.
MESSAGE_LEVELS = {
    Health.OK: messages.SUCCESS,
    Health.PENDING: messages.INFO,
    Health.DISABLED: messages.INFO,
    Health.WARNING: messages.WARNING,
    Health.ERROR: messages.ERROR,
}


def get_app_or_404(slug: str) -> registry.AlienApp:
    try:
        return registry.get(slug)
    except KeyError:
        raise Http404(f"No AlienApp is called {slug!r}.") from None


def get_connection_or_404(app: registry.AlienApp, pk: int) -> Connection:
    """Return connection ``pk`` of ``app``, or raise Http404, also when it exists
    but belongs to another app."""
    queryset = Connection.objects.select_related("sensor").prefetch_related("jobs")
    return get_object_or_404(queryset, pk=pk, app=app.slug)


# The catalogue


@dataclass(frozen=True)
class Tile:
    app: registry.AlienApp
    status: str
    status_label: str

    @property
    def search_text(self) -> str:
        return f"{self.app.name} {self.app.vendor} {self.app.category}".lower()


def app_status(healths: list[str]) -> tuple[str, str]:
    """Return the tile's status badge (key, label) from its connections' Health."""
    if not healths:
        return "not-configured", "Not configured"
    if any(health in (Health.WARNING, Health.ERROR) for health in healths):
        return "problem", "Problem"
    if Health.OK in healths:
        return "collecting", "Collecting"
    return "configured", "Configured"


def catalogue_tiles(query: str) -> list[Tile]:
    healths: dict[str, list[str]] = {}
    for slug, health in Connection.objects.values_list("app", "health"):
        healths.setdefault(slug, []).append(health)

    tiles = [
        Tile(app, *app_status(healths.get(app.slug, []))) for app in registry.all_apps()
    ]
    words = query.lower().split()
    return [tile for tile in tiles if all(word in tile.search_text for word in words)]


class CatalogueView(PortalPermissionMixin, TemplateView):
    permission_required = "alienapps.view_connection"
    template_name = "alienapps/catalogue.html"
    nav_item = "alienapps"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        tab = self.request.GET.get("tab", "available")
        query = self.request.GET.get("q", "").strip()[:100]
        context["tabs"] = CATALOGUE_TABS
        context["tab"] = tab if tab in dict(CATALOGUE_TABS) else "available"
        context["query"] = query
        context["tiles"] = catalogue_tiles(query)
        context["app_count"] = len(registry.all_apps())
        return context


# The app page


def token_state(connection: Connection, today: date) -> dict:
    """Describe the stored token: whether it is set, when saved, and expiry warnings."""
    expires = connection.token_expires_on
    days_left = (expires - today).days if expires else None
    if days_left is not None and days_left < 0:
        level = "expired"
    elif days_left is not None and days_left <= EXPIRY_WARNING_DAYS:
        level = "warning"
    else:
        level = "ok"
    return {
        "is_set": connection.has_secret,
        "saved_at": connection.token_saved_at,
        "expires_on": expires,
        "days_left": days_left,
        "level": level,
    }


def connection_rows(connections: list[Connection], with_history: bool) -> list[dict]:
    today = timezone.localdate()
    rows = []
    for connection in connections:
        row = {
            "connection": connection,
            "summary": services.connection_summary(connection),
            "token": token_state(connection, today),
        }
        if with_history:
            row["changes"] = connection.changes.select_related("changed_by")[:20]
        rows.append(row)
    return rows


class AppView(PortalPermissionMixin, TemplateView):
    """An app's page. With ``?fragment=connections`` it returns only the connections
    table, which the page fetches every 15 seconds while a Health is Pending."""

    permission_required = "alienapps.view_connection"
    template_name = "alienapps/app.html"
    nav_item = "alienapps"

    def get_template_names(self) -> list[str]:
        if self.request.GET.get("fragment") == "connections":
            return ["alienapps/app.html#connections"]
        return [self.template_name]

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        app = get_app_or_404(self.kwargs["slug"])
        user = self.request.user
        connections = list(
            Connection.objects.filter(app=app.slug).select_related("sensor")
        )
        for connection in connections:
            # Runs that no worker took leave no result a worker could store, so the
            # page itself reports them.
            note_stale_queue(connection)
        rows = connection_rows(
            connections, user.has_perm("alienapps.view_connectionchange")
        )
        context.update(
            app=app,
            rows=rows,
            any_pending=any(c.health == Health.PENDING for c in connections),
            can_configure=user.has_perm("alienapps.configure_connection"),
            can_view_history=user.has_perm("alienapps.view_connectionchange"),
            expiry_warning_days=EXPIRY_WARNING_DAYS,
            scheduler_url=reverse("alienapps:scheduler") + f"?app={app.slug}",
        )
        return context


# Configure API


def health_message(connection: Connection, prefix: str) -> tuple[int, str]:
    """Return (message level, text) stating a connection's Health and Message."""
    health = Health(connection.health)
    text = f"{prefix} Health: {health.label}."
    if connection.message:
        text = f"{text} {connection.message}"
    return MESSAGE_LEVELS[health], text


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class ConfigureView(PortalPermissionMixin, TemplateView):
    """Configure API for a new connection. Save verifies it from the sensor."""

    permission_required = "alienapps.configure_connection"
    template_name = "alienapps/configure.html"
    nav_item = "alienapps"

    def get_connection(self, app: registry.AlienApp) -> Connection | None:
        return None

    def get(self, request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
        app = get_app_or_404(slug)
        connection = self.get_connection(app)
        sensors = list(Sensor.objects.all())
        existing = self._only_sensor_connection(app, connection, sensors)
        if existing is not None:
            return redirect("alienapps:connection", slug=app.slug, pk=existing.pk)

        form = self._form(None, app, connection, sensors)
        return self.render_to_response(self.get_context_data(app=app, form=form))

    def post(self, request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
        app = get_app_or_404(slug)
        connection = self.get_connection(app)
        form = self._form(request.POST, app, connection, list(Sensor.objects.all()))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(app=app, form=form))

        saved = services.save_connection(
            app=app,
            connection=connection,
            user=request.user,
            **form.service_arguments(),
        )
        logger.info("Connection %s of %s saved by %s", saved.pk, app.slug, request.user)
        for warning in form.token_warnings:
            messages.warning(request, warning)
        level, text = health_message(
            saved, f"Saved the connection on sensor {saved.sensor}."
        )
        messages.add_message(request, level, text)
        return redirect("alienapps:app", slug=app.slug)

    def _only_sensor_connection(self, app, connection, sensors) -> Connection | None:
        """With one sensor that already has a connection, edit that one instead."""
        if connection is not None or len(sensors) != 1:
            return None
        return Connection.objects.filter(app=app.slug, sensor=sensors[0]).first()

    def _form(self, data, app, connection, sensors):
        form_class = app.configure_form_class()
        return form_class(data, app=app, connection=connection, sensors=sensors)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["connection"] = self.get_connection(context["app"])
        context["wait_seconds"] = round(settings.CONNECTION_CHECK_WAIT_SECONDS)
        return context


class ConnectionView(ConfigureView):
    """Configure API for an existing connection."""

    def get_connection(self, app: registry.AlienApp) -> Connection:
        if not hasattr(self, "_connection"):
            self._connection = get_connection_or_404(app, self.kwargs["pk"])
        return self._connection


class TestConnectionView(PortalPermissionMixin, View):
    """Test connection: verify the stored credential from the sensor, now."""

    permission_required = "alienapps.configure_connection"

    def post(self, request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        app = get_app_or_404(slug)
        connection = get_connection_or_404(app, pk)
        checked = services.check_connection(connection, request.user)
        prefix = f"Tested the connection on sensor {checked.sensor}."
        level, text = health_message(checked, prefix)
        messages.add_message(request, level, text)
        return redirect("alienapps:app", slug=app.slug)


class RemoveConnectionView(PortalPermissionMixin, TemplateView):
    """Remove configuration: a confirmation page, then a POST deletes the
    connection and its jobs."""

    permission_required = "alienapps.configure_connection"
    template_name = "alienapps/remove.html"
    nav_item = "alienapps"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        app = get_app_or_404(self.kwargs["slug"])
        context["app"] = app
        context["connection"] = get_connection_or_404(app, self.kwargs["pk"])
        return context

    def post(self, request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        app = get_app_or_404(slug)
        connection = get_connection_or_404(app, pk)
        sensor = connection.sensor
        services.remove_connection(connection, request.user)
        logger.info("Connection %s of %s removed by %s", pk, app.slug, request.user)
        messages.success(
            request,
            f"Removed the {app.name} connection on sensor {sensor} and its jobs. Its "
            "events and alarms stay.",
        )
        return redirect("alienapps:app", slug=app.slug)


# The Scheduler


def latest_run(job: LogCollectionJob) -> CollectionRun | None:
    return job.runs.order_by("-queued_at", "-id").first()


def job_matches(job: LogCollectionJob, query: str) -> bool:
    text = f"{job.name} {job.connection.alienapp.name} {job.connection.sensor}"
    return all(word in text.lower() for word in query.lower().split())


class SchedulerView(PortalPermissionMixin, TemplateView):
    permission_required = "alienapps.view_logcollectionjob"
    template_name = "alienapps/scheduler.html"
    nav_item = "scheduler"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        app_slug = self.request.GET.get("app", "")
        query = self.request.GET.get("q", "").strip()[:100]
        jobs = LogCollectionJob.objects.select_related("connection__sensor")
        if app_slug:
            jobs = jobs.filter(connection__app=app_slug)
        rows = [
            {"job": job, "last_run": latest_run(job)}
            for job in jobs
            if job_matches(job, query)
        ]
        context.update(
            rows=rows, apps=registry.all_apps(), app_slug=app_slug, query=query
        )
        return context


class JobView(PortalPermissionMixin, TemplateView):
    """A log collection job and its runs, newest first."""

    permission_required = "alienapps.view_logcollectionjob"
    template_name = "alienapps/job.html"
    nav_item = "scheduler"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        job = get_object_or_404(
            LogCollectionJob.objects.select_related("connection__sensor"),
            pk=self.kwargs["pk"],
        )
        runs = job.runs.select_related("requested_by")
        context["job"] = job
        context["page"] = keyset_page(
            runs,
            "queued_at",
            before=self.request.GET.get("before"),
            after=self.request.GET.get("after"),
        )
        return context


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's ``next`` field when it is a page of this site."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if allowed else default)


class JobRunView(PortalPermissionMixin, View):
    """Run now: queue a run of the job on its sensor's queue."""

    permission_required = "alienapps.run_logcollectionjob"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(
            LogCollectionJob.objects.select_related("connection__sensor"), pk=pk
        )
        sensor = job.connection.sensor
        limited = job.rate_limited_until
        if limited and limited > timezone.now():
            messages.warning(
                request,
                f"{job.name} is rate limited by Sophos Central until "
                f"{limited:%Y-%m-%d %H:%M:%S} UTC; no run was queued.",
            )
            return redirect_back(request, reverse("alienapps:scheduler"))
        services.run_job_now(job, request.user)
        messages.success(
            request,
            f"Queued a run of {job.name} on sensor {sensor} (queue {sensor.queue}).",
        )
        return redirect_back(request, reverse("alienapps:scheduler"))


class JobEnabledView(PortalPermissionMixin, View):
    """Enable or disable a job. The form sends ``enabled`` as "true" or "false"."""

    permission_required = "alienapps.change_logcollectionjob"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(
            LogCollectionJob.objects.select_related("connection__sensor"), pk=pk
        )
        value = request.POST.get("enabled")
        if value not in ("true", "false"):
            return HttpResponseBadRequest('The "enabled" field must be true or false.')

        enabled = value == "true"
        services.set_job_enabled(job, enabled, request.user)
        state = "enabled" if enabled else "disabled"
        messages.success(
            request, f"{job.name} on sensor {job.connection.sensor} {state}."
        )
        return redirect_back(request, reverse("alienapps:scheduler"))
