"""`python -m tests.faults.seed WORKERS ITEMS K [JUDGED]` against DATABASE_URL: migrate, then make a researcher,
WORKERS worker accounts with API tokens and a running batch of ITEMS persona items with overlap K, in which each worker has judged JUDGED items.
Prints {"batch": id, "tokens": [...]} as JSON on its last line. The fault tests run it in a
subprocess, so the database they seed can be one the test process has no Django connection to."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")


def main(n_workers: int, items: int, k: int, judged: int = 0) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from qa.roles import RESEARCHER, user_add_role
    from tests.annotation.factories import judge, persona_dataset, running_batch, workers

    call_command("migrate", interactive=False, verbosity=0)
    researcher = get_user_model().objects.create_user("fault-researcher")
    user_add_role(user=researcher, role=RESEARCHER)
    batch = running_batch(researcher, [persona_dataset(slug="faults", rows=items)], overlap=k, sample_size=None)
    made = workers(n_workers, prefix="fault-w")
    for user in made:
        for _ in range(judged):
            judge(user, batch=batch)
    tokens = [Token.objects.create(user=user).key for user in made]
    return {"batch": batch.pk, "tokens": tokens}


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:5]))))
