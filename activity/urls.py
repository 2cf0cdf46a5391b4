from django.urls import path

from activity import views

app_name = "activity"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="events"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event-detail"),
    path("alarms/", views.AlarmListView.as_view(), name="alarms"),
    path("alarms/<int:pk>/", views.AlarmDetailView.as_view(), name="alarm-detail"),
    path(
        "alarms/<int:pk>/status/",
        views.AlarmStatusView.as_view(),
        name="alarm-status",
    ),
]
