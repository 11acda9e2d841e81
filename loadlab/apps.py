from django.apps import AppConfig


class LoadlabConfig(AppConfig):
    """Load, benchmark and chaos tooling: `manage.py loadgen`, `bench`, `chaos`. Not part of the kernel."""

    name = "loadlab"
