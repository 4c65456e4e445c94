"""The Django admin for a system administrator: agencies, people, memberships
and information-sharing agreements, and nothing else.

Case content (young people, referrals, cases, interventions, reviews, the
chronology, share grants and sharing decisions) is deliberately absent from
the admin, here and in ``referrals/admin.py`` and ``safeguarding/admin.py``:
a superuser is not a back door to casework, and every read of case data must
go through ``safeguarding.access`` and its access log. The access log itself
is for the data-protection officer's own page, not the admin.

Writes that carry an invariant go through ``agencies.services``: an agency is
created with its group, and a membership change keeps the person's agency
group in step. Django groups are therefore not edited here at all.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from agencies import services
from agencies.models import Agency, InformationSharingAgreement, Membership, Partnership

User = get_user_model()


# ---------------------------------------------------------------------------
# Memberships, edited inline on an agency and on a person
# ---------------------------------------------------------------------------


class MembershipInlineForm(forms.ModelForm):
    """Who, where and which role are fixed once saved: to change a role, end
    the membership and add another, so the record of who held what stays."""

    class Meta:
        model = Membership
        fields = ["user", "agency", "role", "job_title", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("user", "agency", "role"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("is_active", True):
            agency = cleaned.get("agency") or getattr(self.instance, "agency", None)
            user = cleaned.get("user") or getattr(self.instance, "user", None)
            if agency is not None and getattr(agency, "pk", None) and not agency.is_active:
                raise forms.ValidationError(_("%(agency)s is no longer active."), params={"agency": agency})
            if user is not None and getattr(user, "pk", None) and not user.is_active:
                raise forms.ValidationError(_("This person's account is deactivated."))
        return cleaned


class MembershipInlineBase(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0
    # Memberships are ended, not deleted: they are the record of who could
    # see what, and when.
    can_delete = False
    readonly_fields = ("created_at",)


class AgencyMembershipInline(MembershipInlineBase):
    fk_name = "agency"
    fields = ("user", "role", "job_title", "is_active", "created_at")
    autocomplete_fields = ("user",)


class UserMembershipInline(MembershipInlineBase):
    fk_name = "user"
    fields = ("agency", "role", "job_title", "is_active", "created_at")
    autocomplete_fields = ("agency",)


def save_memberships(formset) -> None:
    """Save a membership formset through the services, so the person's
    agency group always follows their active memberships."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    parent = formset.instance
    for form in formset.forms:
        if not form.has_changed() or not form.cleaned_data:
            continue
        data = form.cleaned_data
        if form.instance.pk is None:
            agency, user = (parent, data["user"]) if isinstance(parent, Agency) else (data["agency"], parent)
            membership = services.membership_add(
                agency=agency, user=user, role=data["role"], job_title=data.get("job_title", ""),
            )
            if not data.get("is_active", True):
                membership = services.membership_end(membership=membership)
            form.instance = membership
            formset.new_objects.append(membership)
            continue
        membership = Membership.objects.select_related("agency", "user").get(pk=form.instance.pk)
        if "job_title" in form.changed_data:
            Membership.objects.filter(pk=membership.pk).update(job_title=data.get("job_title", ""))
        if "is_active" in form.changed_data:
            if data.get("is_active"):
                services.membership_add(agency=membership.agency, user=membership.user, role=membership.role)
            else:
                services.membership_end(membership=membership)
        formset.changed_objects.append((membership, form.changed_data))


# ---------------------------------------------------------------------------
# Agencies
# ---------------------------------------------------------------------------


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    """The partnerships (boroughs) of the deployment. Made here by a system
    administrator; deactivated, never deleted (their case data stays)."""

    list_display = ("name", "slug", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_readonly_fields(self, request, obj=None):
        return ("slug", "created_at") if obj is not None and obj.pk else ("created_at",)

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.pk else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None):
        return False




class AgencyAdminForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "slug", "kind", "email", "partnerships", "is_active"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if self.instance.pk is None and Group.objects.filter(name=services.agency_group_name(slug)).exists():
            raise forms.ValidationError(_("A group for this slug already exists; choose another slug."))
        return slug


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyAdminForm
    list_display = ("name", "kind", "email", "is_active", "group")
    list_filter = ("kind", "is_active", "partnerships")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("partnerships",)
    inlines = [AgencyMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug names the agency's group; it is fixed once created.
        if obj is not None and obj.pk:
            return ("slug", "group", "created_at")
        return ()

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.pk else self.prepopulated_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.agency_create(
            name=obj.name, kind=obj.kind, slug=obj.slug, email=obj.email,
            partnerships=list(form.cleaned_data.get("partnerships") or []),
        )
        if not obj.is_active:
            Agency.objects.filter(pk=created.pk).update(is_active=False)
            created.is_active = False
        # The admin goes on to save inlines against ``obj``: make it the
        # agency the service created.
        for field in Agency._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state = created._state

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_memberships(formset)
        else:
            super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        # Agencies are deactivated, never deleted: cases and the access log
        # refer to them.
        return False


# ---------------------------------------------------------------------------
# Information-sharing agreements
# ---------------------------------------------------------------------------


@admin.register(InformationSharingAgreement)
class InformationSharingAgreementAdmin(admin.ModelAdmin):
    list_display = ("title", "reference", "cross_border", "starts_on", "ends_on")
    search_fields = ("title", "reference")
    list_filter = ("cross_border", "starts_on", "ends_on")
    filter_horizontal = ("parties",)
    readonly_fields = ("created_at",)

    def has_delete_permission(self, request, obj=None):
        # Sharing decisions cite the agreement they rest on; end it instead.
        return False


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

# Agency groups are created by ``agency_create`` and filled by memberships;
# editing them by hand would let a person into an agency's casework without
# a membership to show for it.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)

if admin.site.is_registered(User):
    admin.site.unregister(User)

# django-oauth-toolkit's admin would let a superuser mint an access token for
# a partner system's application and so read cases through the API: a back
# door. Partner systems' clients are issued and revoked by the agency's own
# administrators through ``agencies.services``, never here.
if apps.is_installed("oauth2_provider"):
    for _model in apps.get_app_config("oauth2_provider").get_models():
        if admin.site.is_registered(_model):
            admin.site.unregister(_model)

# django-otp's device admin shows each person's authenticator secret and
# recovery codes, which would let whoever holds the admin pass anyone's
# second factor. Nobody needs them here: a lost phone is replaced after
# signing in with a recovery code, and ``manage.py two_factor_reset`` clears
# a person's set-up. django-axes' admin is off (AXES_ENABLE_ADMIN).
for _label in ("otp_totp", "otp_static"):
    if apps.is_installed(f"django_otp.plugins.{_label}"):
        for _model in apps.get_app_config(_label).get_models():
            if admin.site.is_registered(_model):
                admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserMembershipInline]
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__agency", "memberships__role")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Agency groups (follow memberships)"), {"fields": ("agency_groups",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("agency_groups", "last_login", "date_joined")

    @admin.display(description=_("Groups"))
    def agency_groups(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return ", ".join(obj.groups.order_by("name").values_list("name", flat=True)) or "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_memberships(formset)
        else:
            super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        # Deactivate people instead: referrals, notes and the access log
        # name them.
        return False
