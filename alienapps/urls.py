from django.urls import path

from alienapps import views

app_name = "alienapps"

urlpatterns = [
    path("alienapps/", views.CatalogueView.as_view(), name="catalogue"),
    path("alienapps/<slug:slug>/", views.AppView.as_view(), name="app"),
    path(
        "alienapps/<slug:slug>/configure/",
        views.ConfigureView.as_view(),
        name="configure",
    ),
    path(
        "alienapps/<slug:slug>/connections/<int:pk>/",
        views.ConnectionView.as_view(),
        name="connection",
    ),
    path(
        "alienapps/<slug:slug>/connections/<int:pk>/test/",
        views.TestConnectionView.as_view(),
        name="connection-test",
    ),
    path(
        "alienapps/<slug:slug>/connections/<int:pk>/remove/",
        views.RemoveConnectionView.as_view(),
        name="connection-remove",
    ),
    path("scheduler/", views.SchedulerView.as_view(), name="scheduler"),
    path("scheduler/jobs/<int:pk>/", views.JobView.as_view(), name="job"),
    path("scheduler/jobs/<int:pk>/run/", views.JobRunView.as_view(), name="job-run"),
    path(
        "scheduler/jobs/<int:pk>/enabled/",
        views.JobEnabledView.as_view(),
        name="job-enabled",
    ),
]
