from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Partner API"

    def ready(self):
        # The idempotency records hold whole responses: the daily retention
        # run removes them after API_IDEMPOTENCY_DAYS (safeguarding.retention
        # is below this part, so this part tells it how).
        from api import base
        from safeguarding import retention

        retention.register_disposal("idempotency_records", base.idempotency_records_remove)
