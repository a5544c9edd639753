from django.urls import path

from polaris.sep24.interactive import more_info
from polaris.sep6 import views

urlpatterns = [
    path("info", views.info, name="sep6-info"),
    path("fee", views.fee, name="sep6-fee"),
    path("deposit", views.deposit, name="sep6-deposit"),
    path("withdraw", views.withdraw, name="sep6-withdraw"),
    path("deposit-exchange", views.deposit_exchange, name="sep6-deposit-exchange"),
    path("withdraw-exchange", views.withdraw_exchange, name="sep6-withdraw-exchange"),
    path("transactions", views.transactions, name="sep6-transactions"),
    path("transactions/<str:transaction_id>", views.patch_transaction, name="sep6-patch-transaction"),
    path("transaction", views.transaction, name="sep6-transaction"),
    path("transaction/more_info", more_info, name="sep6-more-info"),
]
