"""The admin's user forms follow the project's user-name rule (annotation/accounts.py): NFKC, no
case-only twins, no mixed-script look-alikes. Django's own model validator cannot be changed."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from annotation import accounts
from qa.errors import ApplicationError


def _clean_username(form) -> str:
    try:
        name = accounts.username_clean(form.cleaned_data.get("username"))
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message.removeprefix("username: ")) from None
    taken = [t for t in accounts.usernames_taken([name]) if form.instance.pk is None or t != form.instance.username]
    if taken:
        raise forms.ValidationError(f"{taken[0]!r} is taken (names are compared without regard to case).")
    return name


class UsernameCheckedCreationForm(AdminUserCreationForm):
    def clean_username(self):
        return _clean_username(self)


class UsernameCheckedChangeForm(UserChangeForm):
    def clean_username(self):
        return _clean_username(self)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class CheckedUserAdmin(UserAdmin):
    add_form = UsernameCheckedCreationForm
    form = UsernameCheckedChangeForm
