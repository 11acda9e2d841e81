from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from ecom_project import order_directory
        from orders import metrics, selectors

        metrics.register()
        order_directory.register(selectors.order_exists)
