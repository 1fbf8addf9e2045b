"""The application form (申报书) as a PDF download (issue 8).

Whoever may read the project page's application may download it; an expert who has not
declared no conflict of interest (or who declined) sees the page by title only, so for
them the form does not exist (404), like a project they may not see at all.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from funding.application_pdf import application_pdf as render_form
from oversight.access import sees_application

from .projects import visible_project


@login_required
def application_pdf(request, pk: int):
    project = visible_project(request, pk)  # 404 for a project the user may not see
    if not sees_application(request.user, project):
        raise Http404
    response = HttpResponse(render_form(project), content_type="application/pdf")
    # ASCII file name: the title may hold anything; the form prints it inside.
    response["Content-Disposition"] = f'attachment; filename="application-{project.pk}.pdf"'
    return response
