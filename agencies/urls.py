from django.urls import path

from agencies import views

urlpatterns = [
    path("", views.verify, name="two-factor-verify"),
    path("recovery/", views.recovery, name="two-factor-recovery"),
    path("set-up/", views.setup, name="two-factor-setup"),
    path("recovery-codes/new/", views.recovery_codes_new, name="two-factor-recovery-codes-new"),
]
