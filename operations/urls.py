from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import path
from rest_framework_simplejwt.views import TokenRefreshView

from operations import api, login_pages, order_pages, pages, redrive_pages
from operations.token_api import ThrottledTokenObtainPairView

app_name = "ops"

urlpatterns = [
    path("api/auth/token", ThrottledTokenObtainPairView.as_view(), name="token"),
    path("api/auth/token/refresh", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/admin/orders/bulk", api.OrderBulkApi.as_view(), name="api-orders-bulk"),
    path("api/admin/orders/<str:order_id>/retry", api.OrderRetryApi.as_view(), name="api-order-retry"),
    path("api/admin/orders/<str:order_id>/compensate", api.OrderCompensateApi.as_view(), name="api-order-compensate"),
    path("api/admin/dead-letters", api.DeadLetterListApi.as_view(), name="api-dead-letters"),
    path("api/admin/dead-letters/redrive", api.DeadLetterRedriveApi.as_view(), name="api-dead-letters-redrive"),
    path("api/admin/dead-letters/redrives", api.DeadLetterRedriveListApi.as_view(), name="api-dead-letter-redrives"),
    path("api/admin/dead-letters/redrives/<str:redrive_id>", api.DeadLetterRedriveDetailApi.as_view(),
         name="api-dead-letter-redrive"),
    path("api/admin/dead-letters/redrives/<str:redrive_id>/resume", api.DeadLetterRedriveResumeApi.as_view(),
         name="api-dead-letter-redrive-resume"),
    path("api/admin/dead-letters/<str:dead_letter_id>", api.DeadLetterDetailApi.as_view(), name="api-dead-letter"),
    path("api/admin/dead-letters/<str:dead_letter_id>/replay", api.DeadLetterReplayApi.as_view(),
         name="api-dead-letter-replay"),
    path("ops/", pages.index, name="index"),
    path("ops/login/", pages.OpsLoginView.as_view(), name="login"),
    path("ops/login/link/<str:uid>/<str:token>/", login_pages.login_link, name="login-link"),
    path("ops/logout/", LogoutView.as_view(next_page=settings.LOGIN_URL), name="logout"),
    path("ops/dead-letters/", pages.dead_letter_list, name="dead-letters"),
    path("ops/dead-letters/replay", pages.dead_letter_replay, name="dead-letter-replay"),
    path("ops/dead-letters/redrive", redrive_pages.redrive_start, name="dead-letters-redrive"),
    path("ops/dead-letters/redrives/", redrive_pages.redrive_list, name="dead-letter-redrives"),
    path("ops/dead-letters/redrives/<str:redrive_id>/", redrive_pages.redrive_detail, name="dead-letter-redrive"),
    path("ops/dead-letters/redrives/<str:redrive_id>/resume", redrive_pages.redrive_resume,
         name="dead-letter-redrive-resume"),
    path("ops/dead-letters/<str:dead_letter_id>/", pages.dead_letter_detail, name="dead-letter"),
    path("ops/dead-letters/<str:dead_letter_id>/edit-replay", redrive_pages.dead_letter_edit_replay,
         name="dead-letter-edit-replay"),
    path("ops/consumers/", pages.consumer_list, name="consumers"),
    path("ops/orders/", order_pages.order_list, name="orders"),
    path("ops/orders/bulk", order_pages.order_bulk, name="orders-bulk"),
    path("ops/orders/<str:order_id>/", order_pages.order_detail, name="order"),
    path("ops/orders/<str:order_id>/retry", order_pages.order_retry, name="order-retry"),
    path("ops/orders/<str:order_id>/compensate", order_pages.order_compensate, name="order-compensate"),
    path("ops/stock/", order_pages.stock_list, name="stock"),
    path("ops/stock/adjust", order_pages.stock_adjust, name="stock-adjust"),
]
