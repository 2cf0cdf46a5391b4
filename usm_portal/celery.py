"""The Celery application shared by the worker, beat and the web process.

``celery -A usm_portal worker --all-sensors`` is the single-machine worker: besides
the queues given with ``-Q`` it consumes every sensor's queue, including those of
sensors added while it runs. A worker deployed next to one sensor is started with
``-Q <that sensor's queue>`` instead.
"""

import logging
import os

from celery import Celery, bootsteps
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "usm_portal.settings")

logger = logging.getLogger(__name__)

app = Celery("usm_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SENSOR_QUEUE_SYNC_SECONDS = 15

app.user_options["worker"].add(
    Option(
        ["--all-sensors"],
        is_flag=True,
        default=False,
        help="Also consume every sensor's queue, adding new sensors' queues as they appear.",
    )
)


class SensorQueues(bootsteps.StartStopStep):
    """Consumer step that keeps the worker subscribed to every sensor's queue."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, all_sensors: bool = False, **options) -> None:
        super().__init__(parent, **options)
        self.enabled = all_sensors
        self.timer_entry = None

    def start(self, consumer) -> None:
        self.sync(consumer)
        self.timer_entry = consumer.timer.call_repeatedly(
            SENSOR_QUEUE_SYNC_SECONDS, self.sync, (consumer,)
        )

    def stop(self, consumer) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()

    def sync(self, consumer) -> None:
        from django.db import close_old_connections

        from sensors.models import Sensor

        close_old_connections()
        consuming = {queue.name for queue in consumer.task_consumer.queues}
        for name in Sensor.objects.values_list("queue", flat=True):
            if name not in consuming:
                logger.info("Consuming the queue %s of a sensor", name)
                consumer.add_task_queue(name)


app.steps["consumer"].add(SensorQueues)
