"""API token authentication that loads the user and their roles in one precompiled query.

DRF's TokenAuthentication costs a compiled ORM query for the token and its user, and the role
check then another for the user's groups: two of the few statements of every claim and submit.
This class keeps DRF's behaviour (same header, same errors) and reads both at once, with the two
columns of the worker's profile that decide which batches they may work in
(annotation.selectors.worker_scope), so that the claim needs no query of its own for them.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from annotation.selectors import worker_scope_of
from qa.rawsql import aware
from qa.roles import RESEARCHER, ROLES


@cache  # built on first use, once the app registry is ready
def _query() -> tuple[str, list[str], list[str]]:
    User = get_user_model()
    fields = User._meta.concrete_fields
    user_groups = User.groups.through._meta.db_table
    columns = ", ".join(f"u.{f.column}" for f in fields)
    role_columns = "".join(
        f", EXISTS (SELECT 1 FROM {user_groups} ug JOIN {Group._meta.db_table} g ON g.id = ug.group_id "
        f"WHERE ug.user_id = u.id AND g.name = '{role}')"
        for role in ROLES
    )
    from annotation.models import WorkerProfile

    sql = (
        f"SELECT {columns}{role_columns}, p.id, p.platform, p.created_by_id FROM {Token._meta.db_table} t "
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id "
        f"LEFT JOIN {WorkerProfile._meta.db_table} p ON p.user_id = u.id WHERE t.key = %s"
    )
    datetimes = [f.attname for f in fields if f.get_internal_type() == "DateTimeField"]
    return sql, [f.attname for f in fields], datetimes


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        sql, names, datetimes = _query()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        values = dict(zip(names, row[: len(names)], strict=True))
        for name in datetimes:
            values[name] = aware(values[name])
        if not values["is_active"]:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        user = get_user_model().from_db(connection.alias, names, list(values.values()))
        user._role_cache = {role for role, held in zip(ROLES, row[len(names) : -3], strict=True) if held}
        profile_id, platform, created_by_id = row[-3:]
        user._worker_scope = worker_scope_of(
            is_superuser=user.is_superuser,
            researcher=RESEARCHER in user._role_cache,
            user_id=user.pk,
            platform=platform if profile_id is not None else None,
            created_by_id=created_by_id,
        )
        token = Token.from_db(connection.alias, ["key", "user_id"], [key, user.pk])
        token.user = user
        return user, token
