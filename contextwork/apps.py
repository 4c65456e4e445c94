from django.apps import AppConfig


class ContextworkConfig(AppConfig):
    name = "contextwork"
    verbose_name = "Work on contexts and panels"
