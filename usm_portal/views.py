"""Portal-wide views: the home redirect, sign-in and the error pages, and the
permission mixin every page view uses."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from usm_portal.lockout import LockoutAuthenticationForm
from usm_portal.templatetags.portal import navigation_for


class PortalPermissionMixin(PermissionRequiredMixin):
    """Check ``permission_required`` before any method handler runs.

    An anonymous visitor is redirected to the sign-in page; a signed-in user without
    the permission gets 403. ``nav_item`` marks the page's entry in the navigation.
    """

    nav_item = ""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["nav_item"] = self.nav_item
        return context


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Redirect to the first page of the navigation that the user may open."""
    for _title, items in navigation_for(request.user):
        return redirect(items[0].url)
    raise PermissionDenied("Your account has no role in USM Portal.")


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    context = {
        "title": "Access denied",
        "message": "Your role does not allow this page or action. Ask a Manager if "
        "you need access.",
    }
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    context = {
        "title": "Page not found",
        "message": "The page or item does not exist, or it was removed.",
        "request_path": request.path,
    }
    return render(request, "404.html", context, status=404)
