"""Settings for the order pipeline. Every knob comes from the environment (DESIGN §9)."""
from __future__ import annotations

import sys
from pathlib import Path

from ecom_project import config
from ecom_project.events import saga
from ecom_project.config import ConfigError, env_bool, env_float, env_int, env_list, env_str
from ecom_project.engines import state as engines_state
from ecom_project.signing_keys import signing_keys

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    DEBUG = env_bool("DEBUG", False)
    # "production" (docker-compose, the image) takes keys from the environment only and turns on the
    # HTTPS-only settings; "local" (make run, tests) generates its keys once into DATA_DIR.
    DEPLOYMENT = env_str("DEPLOYMENT", "local").lower()
    if DEPLOYMENT not in {"local", "production"}:
        raise ConfigError(f"DEPLOYMENT={DEPLOYMENT!r} is not local or production")
    PRODUCTION = DEPLOYMENT == "production"
    SERVICE_NAME = env_str("SERVICE_NAME", "ecom")
    HOST = env_str("HOST", "127.0.0.1")
    PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
    METRICS_PORT = env_int("METRICS_PORT", 0, minimum=0, maximum=65535)
    # The local engines' data (git-ignored); a running `make run` says there where its engines listen.
    DATA_DIR = Path(env_str("DATA_DIR") or BASE_DIR / ".data").resolve()
    _LOCAL_ENGINES = engines_state.running(DATA_DIR)
    KAFKA_BROKERS = config.kafka_brokers(env_str("KAFKA_BROKERS") or _LOCAL_ENGINES.get("kafka") or "")
    KAFKA_PARTITIONS = env_int("KAFKA_PARTITIONS", 4, minimum=1, maximum=256)
    KAFKA_HEAP = config.java_heap(env_str("KAFKA_HEAP", "512m"))
    MONGO_URL = config.mongo_url(env_str("MONGO_URL") or _LOCAL_ENGINES.get("mongo") or "")
    MONGO_DB = env_str("MONGO_DB", "ecom")
    REDIS_URL = config.redis_url(env_str("REDIS_URL"))
    PAYMENT_AUTH_LIMIT = env_float("PAYMENT_AUTH_LIMIT", 5000.0, maximum=1e12)
    PAYMENT_FAILURE_RATE = env_float("PAYMENT_FAILURE_RATE", 0.0)
    SHIPPING_FAILURE_RATE = env_float("SHIPPING_FAILURE_RATE", 0.0)
    SHIPPING_COUNTRIES = [c.upper() for c in env_list("SHIPPING_COUNTRIES", "US,CA,GB,DE,FR,NL")]
    LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"LOG_LEVEL={LOG_LEVEL!r} is not a log level")
    HANDLER_MAX_ATTEMPTS = env_int("HANDLER_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
    HANDLER_BACKOFF_MS = env_int("HANDLER_BACKOFF_MS", 50, minimum=0, maximum=60000)
    CONSUMER_BATCH_SIZE = env_int("CONSUMER_BATCH_SIZE", 500, minimum=1, maximum=10000)
    # Event ids each consumer remembers having applied, to skip redeliveries without a store round trip;
    # older ones are forgotten (the handlers' applied-event guards still make them no-ops).
    CONSUMER_DEDUPE_WINDOW = env_int("CONSUMER_DEDUPE_WINDOW", 5000, minimum=1, maximum=10_000_000)
    # Projections the projector keeps after writing them, to fold the next event without a read (0: none).
    # Only an order in flight has a next event: twice the back-pressure cap on orders in flight is plenty,
    # and each kept copy is about 6 KiB (a finished order's copy is never read again).
    PROJECTION_CACHE_SIZE = env_int("PROJECTION_CACHE_SIZE", 1000, minimum=0, maximum=1_000_000)
    # Orders the orders consumer keeps after applying an event, to apply the next without a read (0: none).
    ORDER_CACHE_SIZE = env_int("ORDER_CACHE_SIZE", 1000, minimum=0, maximum=1_000_000)
    OUTBOX_POLL_MS = env_int("OUTBOX_POLL_MS", 100, minimum=1, maximum=60000)
    OUTBOX_LEASE_MS = env_int("OUTBOX_LEASE_MS", 10000, minimum=100, maximum=600000)
    # Consumers whose outbox relay a web process of its own runs (runmulti, compose set "orders").
    WEB_OUTBOX_RELAY = env_list("WEB_OUTBOX_RELAY", "")
    # How often a relay looks for entries that no write of its own process told it of (another process's,
    # or a crash's): a scan of each collection, which on FerretDB reads every document (docs/store.md).
    OUTBOX_SCAN_MS = env_int("OUTBOX_SCAN_MS", 10000, minimum=100, maximum=3600000)
    _keys = signing_keys(data_dir=DATA_DIR, from_env_only=PRODUCTION)
    SECRET_KEY, JWT_SECRET = _keys["DJANGO_SECRET_KEY"], _keys["JWT_SECRET"]
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
    # Off by default: lists, status counts, the all-orders feed and /dashboard/ are for staff. On a
    # trusted network it opens them to anyone, still without personal data (docs/operations.md).
    PUBLIC_ORDER_FEED = env_bool("PUBLIC_ORDER_FEED", False)
    SECURE_COOKIES = env_bool("SECURE_COOKIES", PRODUCTION)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
    LOGIN_RATE_PER_IP = env_int("LOGIN_RATE_PER_IP", 20, minimum=1, maximum=100_000)
    LOGIN_RATE_PER_USERNAME = env_int("LOGIN_RATE_PER_USERNAME", 10, minimum=1, maximum=100_000)
    SQLITE_PATH = env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
    # The reference pipeline's dashboard runs on its Vite dev server (port 5173) and calls the API
    # from there; an empty value allows no other origin.
    CORS_ALLOWED_ORIGINS, CORS_ALLOW_ALL_ORIGINS = config.cors_origins(
        env_str("CORS_ALLOWED_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173"), debug=DEBUG,
    )
    # Stuck orders (DESIGN §7): how long each saga step may take, and how often the detector looks.
    SAGA_STEP_TIMEOUT_S = config.step_timeouts("SAGA_STEP_TIMEOUT_S", env_str("SAGA_STEP_TIMEOUT_S"),
                                               steps=saga.STEPS, default=60)
    STUCK_SCAN_INTERVAL_S = env_int("STUCK_SCAN_INTERVAL_S", 15, minimum=1, maximum=3600)
    STATUS_RECOUNT_INTERVAL_S = env_int("STATUS_RECOUNT_INTERVAL_S", 60, minimum=1, maximum=86400)
    BULK_ACTION_MAX_ORDERS = env_int("BULK_ACTION_MAX_ORDERS", 100, minimum=1, maximum=1000)
    # Back-pressure at the door (docs/operations.md#back-pressure): POST /api/orders answers 503 while
    # a figure, refreshed in the background, is above its bound (0 turns a bound off).
    BACKPRESSURE_ENABLED = env_bool("BACKPRESSURE_ENABLED", True)
    BACKPRESSURE_MAX_CONSUMER_LAG = env_int("BACKPRESSURE_MAX_CONSUMER_LAG", 1000, minimum=0)
    BACKPRESSURE_MAX_IN_FLIGHT = env_int("BACKPRESSURE_MAX_IN_FLIGHT", 500, minimum=0)
    # Below that cap, the orders let in are what the pipeline finishes in this budget at the rate it is
    # finishing them now (Little's law), never fewer than the floor; 0 turns the budget off.
    BACKPRESSURE_LATENCY_BUDGET_MS = env_int("BACKPRESSURE_LATENCY_BUDGET_MS", 2500, minimum=0, maximum=600_000)
    BACKPRESSURE_MIN_IN_FLIGHT = env_int("BACKPRESSURE_MIN_IN_FLIGHT", 8, minimum=1)
    BACKPRESSURE_MAX_OUTBOX_BACKLOG = env_int("BACKPRESSURE_MAX_OUTBOX_BACKLOG", 500, minimum=0)
    BACKPRESSURE_REFRESH_MS = env_int("BACKPRESSURE_REFRESH_MS", 500, minimum=50, maximum=60000)
    BACKPRESSURE_RETRY_AFTER_S = env_int("BACKPRESSURE_RETRY_AFTER_S", 1, minimum=1, maximum=3600)
    # Dead-letter replays (DESIGN §7): a letter replayed this often and failing again is parked.
    DEAD_LETTER_MAX_REPLAYS = env_int("DEAD_LETTER_MAX_REPLAYS", 3, minimum=1, maximum=100)
    DEAD_LETTER_REDRIVE_RATE = env_float("DEAD_LETTER_REDRIVE_RATE", 10.0, minimum=0.1, maximum=1000.0)
except ConfigError as exc:  # one readable line, no traceback, non-zero exit
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

KAFKA_PRODUCER = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 5,
    "message.timeout.ms": 15000,
    "allow.auto.create.topics": False,
    **config.librdkafka_overrides("KAFKA_PRODUCER_"),
}
KAFKA_CONSUMER = {
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "max.poll.interval.ms": 60000,
    "partition.assignment.strategy": "range",
    # How long the broker holds a fetch that finds nothing; a fetch returns as soon as a message arrives, so
    # this only sets how often idle consumers ask. 50 ms kept the local Kafka at 33 % of a core idle; 500
    # (librdkafka's default) at 20 %, with p50/p99 at 5 orders/s 155/307 ms against 163/343 ms.
    "fetch.wait.max.ms": 500,
    "allow.auto.create.topics": False,
    **config.librdkafka_overrides("KAFKA_CONSUMER_"),
}

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs works offline
    "channels",
    "django_prometheus",
    "ecom_project",
    "orders",
    "inventory",
    "payments",
    "shipping",
    "projections",
    "operations",
    "loadlab",  # load, benchmark and chaos tooling (manage.py loadgen / bench / chaos)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # before anything that may answer (CommonMiddleware, errors)
    "django.middleware.security.SecurityMiddleware",
    "ecom_project.backpressure.shed_when_behind",  # 503 + Retry-After on POST /api/orders while behind
    "ecom_project.content_security.content_security_policy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Order intake (POST /api/orders) is anonymous: no authentication class reads a cookie, so the session,
# CSRF, auth and messages middleware have nothing to do there. The web handler (http_handler.py) serves
# these paths through the chain below, in one thread hop; the test client and other paths take the full one.
INTAKE_PATHS = ("/api/orders",)
INTAKE_MIDDLEWARE = [m for m in MIDDLEWARE if m not in {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
}]

ROOT_URLCONF = "ecom_project.urls"
ASGI_APPLICATION = "ecom_project.asgi.application"
WSGI_APPLICATION = None
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STATIC_ROOT = BASE_DIR / "var" / "static"
LOGIN_URL = "/ops/login/"
LOGIN_REDIRECT_URL = "/ops/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # TLS ends at the proxy in front of daphne (--proxy-headers), which says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
    # Probes and scrapers inside the compose network speak plain HTTP to web:8000.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "ecom_project.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Cross-origin reads and writes of the API and of the reference pipeline's routes (README
# "Clients of the reference pipeline"); the operator pages stay same-origin. The API
# authenticates with bearer tokens, never cookies, so credentials are not allowed across
# origins: a page elsewhere can never ride on an operator's session.
CORS_URLS_REGEX = r"^/(api/|orders(/|$)|admin/(retry|compensate)/|health$)"
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "idempotency-key", "last-event-id"]
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_ALLOW_CREDENTIALS = False

SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": JWT_SECRET, "UPDATE_LAST_LOGIN": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "Order pipeline API",
    "DESCRIPTION": "Event-driven e-commerce order pipeline (orders, inventory, payments, shipping).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "ecom_project.openapi.document_plain_views"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Messages a websocket may have queued before the layer drops more: a live feed of every order at
# hundreds of changes a second needs far more than the default 100.
CHANNEL_CAPACITY = 5000  # messages a channel (one websocket) may hold; beyond, channels drops (bounded memory)
# Live pushes (ecom_project/live.py): coalesced per order and per tick; at most this many orders wait.
LIVE_PUSH_TICK_MS = 50
LIVE_PUSH_MAX_PENDING = 10_000
CHANNEL_LAYERS = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                 "CONFIG": {"hosts": [REDIS_URL], "capacity": CHANNEL_CAPACITY}}}
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_CAPACITY}}}
)

PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ecom_project.observability.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's own console handler (DEBUG), so every line is JSON and none is doubled.
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "kafka": {"level": LOG_LEVEL},
    },
}

