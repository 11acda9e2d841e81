from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecom_project import health

urlpatterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("", include("django_prometheus.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # daphne serves no files: the project serves its own static assets (dashboard JS/CSS, the admin
    # look of /ops/) in every mode, so nothing depends on a CDN, a collectstatic step or DEBUG.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
    path("", include("orders.urls")),
    path("", include("projections.urls")),
    path("", include("operations.urls")),
    path("", include("reference_compat.urls")),  # the reference pipeline's routes, aliases of the above
]

handler404 = "ecom_project.api_errors.handler404"
handler500 = "ecom_project.api_errors.handler500"
