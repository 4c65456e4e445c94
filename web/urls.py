from django.urls import path

from web.views import (
    api_clients,
    audit,
    cases,
    home,
    notifications,
    partnerships,
    referrals,
    screening,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("caseload.csv", home.caseload_export, name="caseload-export"),
    # Notifications
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/<int:notification_id>/read/", notifications.notification_read, name="notification-read"),
    # The partnership a person is working in
    path("partnership/", partnerships.choose, name="partnership-choose"),
    # Agency administration
    path("agency/api-clients/", api_clients.api_clients, name="api-clients"),
    path("agency/api-clients/<int:client_id>/revoke/", api_clients.api_client_revoke, name="api-client-revoke"),
    # Make a referral
    path("referrals/new/", referrals.start, name="referral-start"),
    path("referrals/new/person/", referrals.person, name="referral-person"),
    path("referrals/new/person/choose/", referrals.person_choose, name="referral-person-choose"),
    path("referrals/new/person/new/", referrals.person_new, name="referral-person-new"),
    path("referrals/new/concerns/", referrals.concerns, name="referral-concerns"),
    path("referrals/new/risk/", referrals.risk, name="referral-risk"),
    path("referrals/new/account/", referrals.account, name="referral-account"),
    path("referrals/new/consent/", referrals.consent, name="referral-consent"),
    path("referrals/new/check/", referrals.check, name="referral-check"),
    path("referrals/<int:referral_id>/sent/", referrals.submitted, name="referral-submitted"),
    path("referrals/<int:referral_id>/", referrals.detail, name="referral-detail"),
    # Screening
    path("screening/<int:referral_id>/", screening.screening, name="screening"),
    path("screening/<int:referral_id>/ask/<int:partnership_id>/", screening.screening_ask, name="screening-ask"),
    path("enquiries/", screening.enquiry_list, name="enquiries"),
    path("enquiries/<int:enquiry_id>/", screening.enquiry_detail, name="enquiry-detail"),
    # Cases
    path("cases/<int:case_id>/", cases.case_detail, name="case-detail"),
    path("cases/<int:case_id>/notes/add/", cases.note_add, name="note-add"),
    path("cases/<int:case_id>/notes/<int:note_id>/correct/", cases.note_correct, name="note-correct"),
    path("cases/<int:case_id>/interventions/add/", cases.intervention_add, name="intervention-add"),
    path("cases/<int:case_id>/interventions/<int:intervention_id>/", cases.intervention_update,
         name="intervention-update"),
    path("cases/<int:case_id>/review/", cases.review_complete, name="review-complete"),
    path("cases/<int:case_id>/shares/add/", cases.share_add, name="share-add"),
    path("cases/<int:case_id>/shares/decline/", cases.share_decline, name="share-decline"),
    path("cases/<int:case_id>/shares/<int:grant_id>/revoke/", cases.share_revoke, name="share-revoke"),
    path("cases/<int:case_id>/close/", cases.case_close, name="case-close"),
    path("cases/<int:case_id>/key-worker/", cases.case_reassign, name="case-reassign"),
    path("cases/<int:case_id>/transfer/", cases.transfer_propose, name="transfer-propose"),
    path("cases/<int:case_id>/transfers/<int:transfer_id>/withdraw/", cases.transfer_withdraw,
         name="transfer-withdraw"),
    # Audit and subject access (data-protection officers, managers)
    path("cases/<int:case_id>/history/", audit.case_history, name="case-history"),
    path("cases/<int:case_id>/access-log/", audit.case_access_log, name="case-access-log"),
    path("young-people/<int:young_person_id>/access-log/", audit.young_person_access_log,
         name="young-person-access-log"),
    path("subject-access/", audit.subject_access_list, name="subject-access-list"),
    path("subject-access/new/", audit.subject_access_new, name="subject-access-new"),
    path("subject-access/<int:request_id>/", audit.subject_access_detail, name="subject-access-detail"),
    path("subject-access/<int:request_id>/export.json", audit.subject_access_export_json,
         name="subject-access-export-json"),
    path("subject-access/<int:request_id>/export.html", audit.subject_access_export_document,
         name="subject-access-export-document"),
]
