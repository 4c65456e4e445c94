from django.urls import path

from referrals import views, views_api_clients, views_case, views_notifications, views_referral, views_screening

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload.csv", views.caseload_export, name="caseload-export"),
    # Notifications
    path("notifications/", views_notifications.notifications, name="notifications"),
    path("notifications/<int:notification_id>/read/", views_notifications.notification_read, name="notification-read"),
    # Agency administration
    path("agency/api-clients/", views_api_clients.api_clients, name="api-clients"),
    path("agency/api-clients/<int:client_id>/revoke/", views_api_clients.api_client_revoke, name="api-client-revoke"),
    # Make a referral
    path("referrals/new/", views_referral.start, name="referral-start"),
    path("referrals/new/person/", views_referral.person, name="referral-person"),
    path("referrals/new/person/choose/", views_referral.person_choose, name="referral-person-choose"),
    path("referrals/new/person/new/", views_referral.person_new, name="referral-person-new"),
    path("referrals/new/concerns/", views_referral.concerns, name="referral-concerns"),
    path("referrals/new/risk/", views_referral.risk, name="referral-risk"),
    path("referrals/new/account/", views_referral.account, name="referral-account"),
    path("referrals/new/consent/", views_referral.consent, name="referral-consent"),
    path("referrals/new/check/", views_referral.check, name="referral-check"),
    path("referrals/<int:referral_id>/sent/", views_referral.submitted, name="referral-submitted"),
    path("referrals/<int:referral_id>/", views_referral.detail, name="referral-detail"),
    # Screening
    path("screening/<int:referral_id>/", views_screening.screening, name="screening"),
    # Cases
    path("cases/<int:case_id>/", views_case.case_detail, name="case-detail"),
    path("cases/<int:case_id>/notes/add/", views_case.note_add, name="note-add"),
    path("cases/<int:case_id>/notes/<int:note_id>/correct/", views_case.note_correct, name="note-correct"),
    path("cases/<int:case_id>/interventions/add/", views_case.intervention_add, name="intervention-add"),
    path("cases/<int:case_id>/interventions/<int:intervention_id>/", views_case.intervention_update,
         name="intervention-update"),
    path("cases/<int:case_id>/review/", views_case.review_complete, name="review-complete"),
    path("cases/<int:case_id>/shares/add/", views_case.share_add, name="share-add"),
    path("cases/<int:case_id>/shares/decline/", views_case.share_decline, name="share-decline"),
    path("cases/<int:case_id>/shares/<int:grant_id>/revoke/", views_case.share_revoke, name="share-revoke"),
    path("cases/<int:case_id>/close/", views_case.case_close, name="case-close"),
    path("cases/<int:case_id>/key-worker/", views_case.case_reassign, name="case-reassign"),
]
