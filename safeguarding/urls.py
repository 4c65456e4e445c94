from django.urls import path

from safeguarding import views

urlpatterns = [
    path("cases/<int:case_id>/history/", views.case_history, name="case-history"),
    path("cases/<int:case_id>/access-log/", views.case_access_log, name="case-access-log"),
    path("young-people/<int:young_person_id>/access-log/", views.young_person_access_log,
         name="young-person-access-log"),
    path("subject-access/", views.subject_access_list, name="subject-access-list"),
    path("subject-access/new/", views.subject_access_new, name="subject-access-new"),
    path("subject-access/<int:request_id>/", views.subject_access_detail, name="subject-access-detail"),
    path("subject-access/<int:request_id>/export.json", views.subject_access_export_json,
         name="subject-access-export-json"),
    path("subject-access/<int:request_id>/export.html", views.subject_access_export_document,
         name="subject-access-export-document"),
]
