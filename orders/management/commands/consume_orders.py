from ecom_project.messaging.command import ConsumerCommand


class Command(ConsumerCommand):
    consumer_name = "orders"
