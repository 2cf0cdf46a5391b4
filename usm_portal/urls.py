from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from usm_portal import views
from usm_portal.lockout import LockoutAdminAuthenticationForm

admin.site.site_header = "USM Portal administration"
admin.site.site_title = "USM Portal"
admin.site.index_title = "Sensors and connections"
# The admin sign-in counts failures and locks user names like the portal's own.
admin.site.login_form = LockoutAdminAuthenticationForm

handler403 = "usm_portal.views.permission_denied"
handler404 = "usm_portal.views.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("alienapps.urls")),
    path("", include("activity.urls")),
    path("sensors/", include("sensors.urls")),
]
