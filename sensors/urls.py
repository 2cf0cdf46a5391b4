from django.urls import path

from sensors import views

app_name = "sensors"

urlpatterns = [path("", views.SensorListView.as_view(), name="list")]
