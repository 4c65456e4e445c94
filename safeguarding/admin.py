"""Nothing from this app is in the Django admin, on purpose.

Share grants and sharing decisions are case content (they say whose case is
shared with whom, and why) and change only through ``safeguarding.services``,
which keeps the permission rows in step. django-guardian's object-permission
tables are kept by ``safeguarding.access`` alone; editing them by hand would
open cases without a share grant to show for it. The access log is read by the
data-protection officer on their own page, not here.

django-guardian registers no admin of its own (its ``GuardedModelAdmin`` is
only a base class); the unregister loop below keeps it that way should a
future version start to.
"""

from django.apps import apps
from django.contrib import admin

# Looked up by app label rather than imported: ``safeguarding.access`` is the
# only module that imports django-guardian.
for _model in [*apps.get_app_config("guardian").get_models(), *apps.get_app_config("safeguarding").get_models()]:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
