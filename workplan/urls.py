from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="workplan"),
    path("targets/", views.targets_page, name="workplan-targets"),
    path("actuals/", views.actuals_page, name="workplan-actuals"),
    path("actuals/import/", views.import_actuals, name="workplan-import"),
    path("actuals/template.xlsx", views.actuals_template, name="workplan-template"),
    path("projects/<int:pk>/recommend/", views.recommend_page, name="workplan-recommend"),
    path("recommendations/<int:pk>/result/", views.record_result, name="workplan-result"),
]
