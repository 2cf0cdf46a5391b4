from django.views.generic import ListView

from sensors.models import Sensor
from usm_portal.views import PortalPermissionMixin


class SensorListView(PortalPermissionMixin, ListView):
    permission_required = "sensors.view_sensor"
    template_name = "sensors/list.html"
    nav_item = "sensors"
    model = Sensor
    context_object_name = "sensors"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # Sensors are changed in the admin, so only users who may do so get a link.
        context["can_manage"] = user.is_staff and user.has_perm("sensors.change_sensor")
        return context
