from django.shortcuts import render

from generation import selectors
from qa.roles import researcher_required


@researcher_required
def dataset_list(request):
    return render(request, "generation/dataset_list.html", {"datasets": selectors.dataset_list()})
